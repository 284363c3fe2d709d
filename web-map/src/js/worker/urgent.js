// A new urgent case assigned to me: the phone vibrates (`navigator.vibrate`, where the browser has it)
// and plays the bundled alarm sound, once per case. A case that was already mine does not ring again
// when it changes; one reassigned to me does. Browsers play sound only once the page has been touched,
// which a worker's phone has been (they signed in, went on duty).

const PATTERN_MS = [400, 150, 400, 150, 400];

export class UrgentAlert {
  /** @param {HTMLAudioElement} sound */
  constructor(sound) {
    this.sound = sound;
    this.rung = new Set();
    this.count = 0;
  }

  /**
   * Rings when `summary` (from a delta) is an urgent case assigned to worker `me` that was not mine in
   * `before` (the case as the page held it). Returns whether it rang.
   */
  check(summary, me, before) {
    if (me == null || summary.priority !== 'urgent' || summary.assignee !== me) return false;
    if (before?.assignee === me || this.rung.has(summary.id)) return false;
    this.rung.add(summary.id);
    this.count += 1;
    document.body.dataset.urgentAlerts = String(this.count);
    if (typeof navigator.vibrate === 'function') navigator.vibrate(PATTERN_MS);
    this.sound.currentTime = 0;
    this.sound.play().then(
      () => { document.body.dataset.urgentSounded = String(Number(document.body.dataset.urgentSounded || 0) + 1); },
      () => {},
    );
    return true;
  }
}
