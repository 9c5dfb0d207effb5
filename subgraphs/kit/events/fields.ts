import { z } from 'zod';

/** Field shapes the catalogue's payloads share. */
export const id = z.string().min(1).max(200);
/** An ISO-8601 UTC time, as `Date.toISOString()` writes it. */
export const isoTime = z.iso.datetime();
/** Whole minor units (kobo, paise, cents): money is never a float. */
export const minorUnits = z.number().int().nonnegative().max(2_147_483_647);
export const currency = z.enum(['NGN', 'INR', 'USD']);
export const count = z.number().int().nonnegative();
/** A positive whole number that fits a PostgreSQL integer column (versions, sequence numbers). */
export const int32 = z.number().int().positive().max(2_147_483_647);
/** Seconds elapsed, bounded like a PostgreSQL integer column. */
export const seconds = z.number().int().nonnegative().max(2_147_483_647);
