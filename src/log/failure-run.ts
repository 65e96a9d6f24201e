/**
 * A run of failures of one kind of write (e.g. the ingress's audit events
 * while the database is away): the first is logged, the rest are counted and
 * told in one line when a write succeeds again.
 */
export class FailureRun {
  private failures = 0;

  /** A failure: true for the first of a run (log it), false for the rest (only counted). */
  fail(): boolean {
    return ++this.failures === 1;
  }

  /** A success: how many failures the run that just ended had (0: there was none). */
  succeed(): number {
    const n = this.failures;
    this.failures = 0;
    return n;
  }
}
