/**
 * For tests of work that must not hold the event loop: starts `work`, and counts the turns of the
 * loop other work got (setImmediate callbacks that ran) until it settled.
 */
export async function loopTurnsDuring<T>(work: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let running = true;
  let turns = 0;
  const turn = () => {
    if (!running) return;
    turns++;
    setImmediate(turn);
  };
  const pending = work();
  setImmediate(turn);
  try {
    return { value: await pending, turns };
  } finally {
    running = false;
  }
}
