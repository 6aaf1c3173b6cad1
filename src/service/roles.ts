/** The parts of the service `start --role` can run: everything in one process, or the receiver or the worker alone. */
export const ROLES = ['all', 'receiver', 'worker'] as const;
export type Role = (typeof ROLES)[number];
