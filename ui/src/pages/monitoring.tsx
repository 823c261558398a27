/** Monitoring (being built). */
export function MonitoringPage() {
  return (
    <section>
      <h1>Monitoring</h1>
    </section>
  );
}

export function MonitorPage({ name, query }: { name: string; query: URLSearchParams }) {
  void query;
  return (
    <section>
      <h1>{name}</h1>
    </section>
  );
}
