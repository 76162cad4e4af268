import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { UndoQueue, type PendingDelete } from '@/utils/undo';

export interface UseUndoableDeleteOptions<T> {
  /** Really delete (after the undo window). */
  remove: (id: number) => Promise<void>;
  /** The deletion failed: the item is back in the list; tell the person why. */
  onError: (item: T, error: unknown) => void;
  /** The undo window (ms). */
  delay?: number;
}

/**
 * Delete with undo: `schedule(item)` hides the item at once and deletes it after `delay` ms;
 * `undo(id)` brings it back. Leaving the page sends the pending deletions right away.
 */
export function useUndoableDelete<T extends { id: number }>({ remove, onError, delay = 5_000 }: UseUndoableDeleteOptions<T>) {
  const [pending, setPending] = useState<readonly PendingDelete<T>[]>([]);
  const callbacks = useRef({ remove, onError });
  useLayoutEffect(() => {
    callbacks.current = { remove, onError };
  });
  const [queue] = useState(
    () =>
      new UndoQueue<T>({
        delay,
        commit: (id) => callbacks.current.remove(id),
        onChange: (entries) => setPending(entries),
        onError: (item, error) => callbacks.current.onError(item, error),
      }),
  );
  useEffect(() => () => void queue.flush(), [queue]);

  return {
    pending,
    schedule: (item: T) => queue.schedule(item.id, item),
    undo: (id: number) => queue.undo(id),
  };
}
