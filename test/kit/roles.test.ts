import { Role as PrismaRole } from '../../prisma/generated/client/enums.js';
import { Role, ROLES, type RoleName } from '../../subgraphs/kit/identity.js';

// Compile-time: each side's values are assignable to the other's.
type PrismaRoleName = (typeof PrismaRole)[keyof typeof PrismaRole];
const toPrisma = (role: RoleName): PrismaRoleName => role;
const fromPrisma = (role: PrismaRoleName): RoleName => role;

describe('roles', () => {
  it('match the identity schema’s Role enum exactly', () => {
    expect([...ROLES].sort()).toEqual(Object.values(PrismaRole).sort());
    expect(toPrisma(Role.NURSE)).toBe(fromPrisma(PrismaRole.NURSE));
  });
});
