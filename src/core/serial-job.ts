/**
 * An async job whose runs never overlap: a call while one runs gets that run's promise and makes
 * it go once more when done, since the run under way may have read state from before the change
 * that prompted the call. `goOn` can end the repeats (a component stopping).
 */
export class SerialJob {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly job: () => Promise<void>,
    private readonly goOn: () => boolean = () => true,
  ) {}

  run(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.job();
      } while (this.again && this.goOn());
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Resolves once no run is under way. */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }
}
