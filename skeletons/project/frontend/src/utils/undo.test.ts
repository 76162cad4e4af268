import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UndoQueue, type PendingDelete } from './undo';

interface Thing {
  id: number;
  title: string;
}

function setup(commit: (id: number) => Promise<void> = async () => {}) {
  const changes: PendingDelete<Thing>[][] = [];
  const errors: [Thing, unknown][] = [];
  const commits: number[] = [];
  const queue = new UndoQueue<Thing>({
    delay: 5_000,
    commit: async (id) => {
      commits.push(id);
      await commit(id);
    },
    onChange: (pending) => changes.push([...pending]),
    onError: (item, error) => errors.push([item, error]),
    now: () => Date.now(),
  });
  return { queue, changes, errors, commits };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('UndoQueue', () => {
  it('deletes only after the undo window', async () => {
    const { queue, commits } = setup();
    queue.schedule(1, { id: 1, title: 'Lamp' });
    expect(queue.has(1)).toBe(true);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(commits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(commits).toEqual([1]);
    expect(queue.pending).toEqual([]);
  });

  it('undo within the window deletes nothing', async () => {
    const { queue, commits, changes } = setup();
    queue.schedule(1, { id: 1, title: 'Lamp' });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(queue.undo(1)).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(commits).toEqual([]);
    expect(changes.at(-1)).toEqual([]);
    expect(queue.undo(1)).toBe(false);
  });

  it('keeps the item hidden while the deletion is being sent, and no longer undoable', async () => {
    let finish: () => void = () => {};
    const { queue, changes } = setup(() => new Promise<void>((resolve) => (finish = resolve)));
    queue.schedule(1, { id: 1, title: 'Lamp' });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(queue.pending).toMatchObject([{ id: 1, sending: true }]);
    expect(queue.undo(1)).toBe(false);
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(changes.at(-1)).toEqual([]);
  });

  it('reports a failed deletion (the item shows again)', async () => {
    const { queue, errors } = setup(async () => {
      throw new Error('offline');
    });
    queue.schedule(2, { id: 2, title: 'Chair' });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.[0]).toEqual({ id: 2, title: 'Chair' });
    expect(queue.pending).toEqual([]);
  });

  it('flush sends every pending deletion at once', async () => {
    const { queue, commits } = setup();
    queue.schedule(1, { id: 1, title: 'A' });
    queue.schedule(2, { id: 2, title: 'B' });
    queue.schedule(2, { id: 2, title: 'B' }); // twice: once
    await queue.flush();
    expect(commits.sort()).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(commits).toHaveLength(2);
  });

  it('times each deletion on its own', async () => {
    const { queue, commits } = setup();
    queue.schedule(1, { id: 1, title: 'A' });
    await vi.advanceTimersByTimeAsync(2_000);
    queue.schedule(2, { id: 2, title: 'B' });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(commits).toEqual([1]);
    expect(queue.pending.map((p) => p.id)).toEqual([2]);
    expect(queue.pending[0]?.commitAt).toBe(Date.now() + 2_000);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(commits).toEqual([1, 2]);
  });
});
