/** The environment page (to be built). */
export default function Environment() {
  return (
    <main class="page">
      <h1>Environment</h1>
    </main>
  );
}
