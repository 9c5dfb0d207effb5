import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { COHORTS, PARTNERS } from '../../prisma/seed-data.js';
import { postGraphQL } from '../support/platform.js';

/** A launch token as the seeded Northwind partner signs it (HS256 with its shared secret). */
export async function northwindLaunchToken(claims: Record<string, unknown> = {}, expiresIn = 300): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: 'learner', cohort_id: COHORTS.northwindA.id, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(PARTNERS.northwind.launchIssuer)
    .setSubject(typeof claims['sub'] === 'string' ? claims['sub'] : `lms-user-${randomUUID()}`)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + expiresIn)
    .sign(new TextEncoder().encode(PARTNERS.northwind.launchSecret));
}

export const LAUNCH_MUTATION = 'mutation($token: String!) { launchSession(token: $token) { accessToken launchUrl session { id status } } }';

/** Launches through the gateway and returns the learner's token and session id. */
export async function launchThrough(graphqlUrl: string, token: string): Promise<{ accessToken: string; sessionId: string }> {
  const { json } = await postGraphQL(graphqlUrl, { query: LAUNCH_MUTATION, variables: { token } });
  if (json.errors) throw new Error(JSON.stringify(json.errors));
  const result = json.data?.['launchSession'] as { accessToken: string; session: { id: string } };
  return { accessToken: result.accessToken, sessionId: result.session.id };
}
