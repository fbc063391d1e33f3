// Program inputs the end-to-end tests share: day-by-day sessions in one room, and a roster CSV of numbered learners.

export interface Venue {
  room: string;
  roomEmail: string;
  backupPlan: string;
  instructor: string;
}

/** `count` morning sessions "Day 1".."Day n" on consecutive September 2027 days from `day0`, in Berlin. */
export function daySessions(count: number, day0: number, venue: Venue, capacity: number) {
  return Array.from({ length: count }, (_, i) => {
    const day = `2027-09-${String(day0 + i).padStart(2, '0')}`;
    return {
      label: `Day ${i + 1}`,
      start: `${day}T09:00`,
      end: `${day}T12:00`,
      zone: 'Europe/Berlin',
      room: venue.room,
      roomEmail: venue.roomEmail,
      backupPlan: venue.backupPlan,
      instructors: [venue.instructor],
      capacity,
    };
  });
}

/**
 * A roster of learner1..learnerN at `domain`. With `sessions`, learners are spread over "Day 1".."Day n"; managers are
 * boss0..boss(m-1), or the single `boss` when `managers` is 1.
 */
export function numberedRosterCsv(n: number, domain: string, opts: { sessions?: number; managers?: number } = {}): string {
  const managers = opts.managers ?? 1;
  const manager = (i: number) => (managers === 1 ? `boss@${domain}` : `boss${i % managers}@${domain}`);
  const rows = [`Email,Name,Manager Email,Time Zone${opts.sessions ? ',Session' : ''}`];
  for (let i = 1; i <= n; i++) {
    rows.push(`learner${i}@${domain},Learner ${i},${manager(i)},Europe/Berlin${opts.sessions ? `,Day ${1 + (i % opts.sessions)}` : ''}`);
  }
  return rows.join('\n');
}
