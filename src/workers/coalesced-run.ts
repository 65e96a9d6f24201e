/**
 * A stage's polling loop (inspection, archive): `work` runs on demand, at
 * most `concurrency` runs at a time (default one; a function is asked at
 * each wake). A wake while that many
 * run asks for exactly one more run after one of them, however many wakes
 * came, so bursts of new mail cost one extra pass, not one per message.
 * With two, a wake during a run starts the second at once: mail that
 * arrives while a batch is being written does not wait for that batch to
 * end (the work must then keep concurrent runs off each other's items).
 * `work` may also ask to run again at once (more is waiting). A timer wakes
 * it as a safety net; stop() ends the loop.
 */
export class CoalescedRun {
  private running = 0;
  private again = false;
  private stoppedFlag = false;
  private timer: NodeJS.Timeout | undefined;

  /** `work` resolves true to run again at once; `onError` gets what it threw (the loop goes on). */
  constructor(
    private readonly work: () => Promise<boolean | void>,
    private readonly onError: (err: unknown) => void,
    /** Runs at once (default one); a function is asked at each wake (e.g. two only while the run under way is small). */
    private readonly concurrency: number | (() => number) = 1,
  ) {}

  get stopped(): boolean {
    return this.stoppedFlag;
  }

  wake(): void {
    if (this.stoppedFlag) return;
    const most = typeof this.concurrency === 'number' ? this.concurrency : this.concurrency();
    if (this.running >= most) {
      this.again = true;
      return;
    }
    this.running++;
    void this.work()
      .then((more) => {
        if (more) this.again = true;
      }, this.onError)
      .finally(() => {
        this.running--;
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
