/**
 * A stage's polling loop (inspection, archive): `work` runs on demand, one
 * run at a time. A wake during a run asks for exactly one more run after
 * it, however many wakes came, so bursts of new mail cost one extra pass,
 * not one per message. `work` may also ask to run again at once (more is
 * waiting). A timer wakes it as a safety net; stop() ends the loop.
 */
export class CoalescedRun {
  private running = false;
  private again = false;
  private stoppedFlag = false;
  private timer: NodeJS.Timeout | undefined;

  /** `work` resolves true to run again at once; `onError` gets what it threw (the loop goes on). */
  constructor(
    private readonly work: () => Promise<boolean | void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  get stopped(): boolean {
    return this.stoppedFlag;
  }

  wake(): void {
    if (this.stoppedFlag) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.work()
      .then((more) => {
        if (more) this.again = true;
      }, this.onError)
      .finally(() => {
        this.running = false;
        if (this.again && !this.stoppedFlag) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Wakes now and every `everyMs` (the timer does not keep the process alive). */
  start(everyMs: number): void {
    this.wake();
    this.timer = setInterval(() => this.wake(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    this.stoppedFlag = true;
    if (this.timer) clearInterval(this.timer);
  }
}
