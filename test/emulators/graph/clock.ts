// The emulator's clock: real time by default, or a simulated one that moves only when a test advances it; it never sleeps.

export interface EmulatorClock {
  now(): number;
  /** Moves a simulated clock forward; on a real clock it throws. */
  advance(ms: number): void;
  readonly simulated: boolean;
}

export function realClock(): EmulatorClock {
  return {
    simulated: false,
    now: () => Date.now(),
    advance: () => {
      throw new Error('advance() needs the emulator started with { simulatedClock: true }');
    },
  };
}

export function simulatedClock(startMs: number = Date.now()): EmulatorClock {
  let now = startMs;
  return {
    simulated: true,
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
  };
}
