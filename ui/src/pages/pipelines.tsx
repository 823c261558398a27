/** Pipelines (being built). */
export function PipelinesPage({ query }: { query: URLSearchParams }) {
  void query;
  return (
    <section>
      <h1>Pipelines</h1>
    </section>
  );
}

export function PipelineRunPage({ id, query }: { id: string; query: URLSearchParams }) {
  void query;
  return (
    <section>
      <h1>{id}</h1>
    </section>
  );
}
