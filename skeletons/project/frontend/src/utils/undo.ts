/** One deletion waiting for its undo window to pass. */
export interface PendingDelete<T> {
  id: number;
  item: T;
  /** When the deletion is sent (ms, same clock as `now`). */
  commitAt: number;
  /** Sent, waiting for the server: still hidden, no longer undoable. */
  sending: boolean;
}

export interface UndoQueueOptions<T> {
  /** How long the person has to undo (ms). */
  delay: number;
  /** Really delete (the API call). */
  commit: (id: number, item: T) => Promise<void>;
  /** The pending list changed (to re-render). */
  onChange: (pending: PendingDelete<T>[]) => void;
  /** The deletion failed after the window: the item is shown again; tell the person. */
  onError: (item: T, error: unknown) => void;
  now?: () => number;
}

/**
 * Deletion with undo: `schedule` hides an item at once and deletes it after `delay` ms unless
 * `undo` is called first; `flush` sends every pending deletion now (the page is going away).
 * Framework-free, so its timing is tested with fake timers.
 */
export class UndoQueue<T> {
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();
  private entries: PendingDelete<T>[] = [];
  private readonly options: UndoQueueOptions<T>;

  constructor(options: UndoQueueOptions<T>) {
    this.options = options;
  }

  get pending(): readonly PendingDelete<T>[] {
    return this.entries;
  }

  has(id: number): boolean {
    return this.timers.has(id);
  }

  schedule(id: number, item: T): void {
    if (this.entries.some((entry) => entry.id === id)) return;
    const now = (this.options.now ?? Date.now)();
    this.entries = [...this.entries, { id, item, commitAt: now + this.options.delay, sending: false }];
    this.timers.set(
      id,
      setTimeout(() => void this.commit(id), this.options.delay),
    );
    this.options.onChange(this.entries);
  }

  /** Cancel a pending deletion; false when it was not pending (already sent, or unknown). */
  undo(id: number): boolean {
    const timer = this.timers.get(id);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.timers.delete(id);
    this.entries = this.entries.filter((entry) => entry.id !== id);
    this.options.onChange(this.entries);
    return true;
  }

  /** Send every pending deletion now. */
  async flush(): Promise<void> {
    await Promise.all([...this.timers.keys()].map((id) => this.commit(id)));
  }

  private async commit(id: number): Promise<void> {
    const timer = this.timers.get(id);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(id);
    const entry = this.entries.find((e) => e.id === id);
    if (!entry) return;
    this.entries = this.entries.map((e) => (e.id === id ? { ...e, sending: true } : e));
    this.options.onChange(this.entries);
    try {
      await this.options.commit(id, entry.item);
    } catch (error) {
      this.options.onError(entry.item, error);
    } finally {
      this.entries = this.entries.filter((e) => e.id !== id);
      this.options.onChange(this.entries);
    }
  }
}
