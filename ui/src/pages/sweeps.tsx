/** Sweeps (being built). */
export function SweepsPage() {
  return (
    <section>
      <h1>Sweeps</h1>
    </section>
  );
}

export function SweepPage({ id }: { id: string }) {
  return (
    <section>
      <h1>{id}</h1>
    </section>
  );
}
