/** The events page (to be built). */
export default function Events() {
  return (
    <main class="page">
      <h1>Events</h1>
    </main>
  );
}
