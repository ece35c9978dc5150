/** The savings page (to be built). */
export default function Savings() {
  return (
    <main class="page">
      <h1>Savings</h1>
    </main>
  );
}
