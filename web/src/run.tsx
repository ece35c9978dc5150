/** The run page (to be built). */
export default function Run() {
  return (
    <main class="page">
      <h1>Run</h1>
    </main>
  );
}
