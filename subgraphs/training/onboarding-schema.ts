import type { Partner } from '../../prisma/generated/client/client.js';
import type { Builder } from '../kit/builder.js';
import { listLtiPlatforms, registerLtiPlatform } from './lti.js';
import { archiveCohort, createCohort, findPartner, listPartners, registerPartner, renameCohort, rotateLaunchSecret, updatePartner, type OidcProviderInput, type PartnerWithSecret } from './onboarding.js';

/** Partner onboarding's types and fields (onboarding.ts holds the rules), added to training's builder. */
export function addOnboardingFields(builder: Builder): void {
  const LaunchSigningEnum = builder.enumType('LaunchSigning', {
    description: 'How a partner signs its launch tokens.',
    values: {
      SECRET: { description: 'HS256 with a shared secret CareGraph generates (shown once).' },
      JWKS: { description: 'RS256 or ES256 with the partner’s own keys, published at its JWKS URL.' },
    } as const,
  });

  const OidcProviderRef = builder.objectRef<OidcProviderInput>('OidcProvider').implement({
    description: 'The OpenID Connect provider a partner’s learners sign in with.',
    fields: (t) => ({
      issuer: t.exposeString('issuer'),
      clientId: t.exposeString('clientId', { description: 'CareGraph’s client id at the provider: the ID tokens’ `aud`.' }),
      jwksUrl: t.exposeString('jwksUrl'),
    }),
  });

  const PartnerRef = builder.prismaObject('Partner', {
    description: 'A platform that launches learners into the Virtual AI Patient and receives their session summaries. Its secrets are never shown after they are made.',
    fields: (t) => ({
      id: t.exposeID('id'),
      name: t.exposeString('name'),
      organizationId: t.exposeID('organizationId'),
      launchIssuer: t.exposeString('launchIssuer', { description: 'The `iss` of the partner’s launch tokens.' }),
      launchSigning: t.field({ type: LaunchSigningEnum, resolve: (p) => (p.launchSecret ? 'SECRET' : 'JWKS') }),
      jwksUrl: t.exposeString('jwksUri', { nullable: true }),
      previousSecretValidUntil: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'Until when the secret replaced by the last rotation is still accepted.',
        resolve: (p) => (p.previousLaunchSecretExpiresAt && p.previousLaunchSecretExpiresAt.getTime() > Date.now() ? p.previousLaunchSecretExpiresAt : null),
      }),
      oidcProvider: t.field({
        type: OidcProviderRef,
        nullable: true,
        resolve: (p) => (p.oidcIssuer && p.oidcAudience && p.oidcJwksUri ? { issuer: p.oidcIssuer, clientId: p.oidcAudience, jwksUrl: p.oidcJwksUri } : null),
      }),
      learnerAppUrl: t.exposeString('learnerAppUrl', { nullable: true, description: 'Where browser launches send the learner (session and token in the URL fragment).' }),
      cohorts: t.relation('cohorts', { query: { orderBy: { createdAt: 'asc' } } }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
      updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    }),
  });

  const PartnerWithSecretRef = builder.objectRef<PartnerWithSecret>('PartnerWithSecret').implement({
    fields: (t) => ({
      partner: t.field({ type: PartnerRef, resolve: (r) => r.partner }),
      launchSecret: t.exposeString('launchSecret', { nullable: true, description: 'The launch secret, shown only here, once (null for JWKS signing).' }),
    }),
  });

  const OidcProviderInputRef = builder.inputType('OidcProviderInput', {
    fields: (t) => ({ issuer: t.string({ required: true }), clientId: t.string({ required: true }), jwksUrl: t.string({ required: true }) }),
  });
  const RegisterPartnerInput = builder.inputType('RegisterPartnerInput', {
    fields: (t) => ({
      name: t.string({ required: true }),
      launchIssuer: t.string({ required: true, description: 'The `iss` the partner puts in its launch tokens; unique across partners.' }),
      launchSigning: t.field({ type: LaunchSigningEnum, required: true }),
      jwksUrl: t.string({ required: false, description: 'Required for JWKS signing.' }),
      oidcProvider: t.field({ type: OidcProviderInputRef, required: false }),
      learnerAppUrl: t.string({ required: false }),
    }),
  });
  const UpdatePartnerInput = builder.inputType('UpdatePartnerInput', {
    description: 'Absent fields stay as they are; null clears the OIDC provider or the learner app URL.',
    fields: (t) => ({
      name: t.string({ required: false }),
      jwksUrl: t.string({ required: false, description: 'A new JWKS URL, for a partner with JWKS signing.' }),
      oidcProvider: t.field({ type: OidcProviderInputRef, required: false }),
      learnerAppUrl: t.string({ required: false }),
    }),
  });
  const CreateCohortInput = builder.inputType('CreateCohortInput', {
    fields: (t) => ({ partnerId: t.id({ required: true }), name: t.string({ required: true }) }),
  });

  const LtiPlatformRef = builder.prismaObject('LtiPlatform', {
    description: 'An LTI 1.3 platform registered for a partner. Configure it with the tool URLs below.',
    fields: (t) => ({
      id: t.exposeID('id'),
      partnerId: t.exposeID('partnerId'),
      issuer: t.exposeString('issuer'),
      clientId: t.exposeString('clientId'),
      deploymentIds: t.exposeStringList('deploymentIds'),
      authLoginUrl: t.exposeString('authLoginUrl'),
      accessTokenUrl: t.exposeString('accessTokenUrl'),
      jwksUrl: t.exposeString('jwksUrl'),
      toolLoginUrl: t.string({ description: 'The tool’s OIDC login initiation URL, for the platform.', resolve: (_p, _a, ctx) => `${ctx.publicUrl ?? ''}/lti/login` }),
      toolLaunchUrl: t.string({ description: 'The tool’s redirect (launch) URL, for the platform.', resolve: (_p, _a, ctx) => `${ctx.publicUrl ?? ''}/lti/launch` }),
      toolJwksUrl: t.string({ description: 'The tool’s public keys (its client assertions are signed with key `toolKeyId`).', resolve: (_p, _a, ctx) => `${ctx.publicUrl ?? ''}/lti/jwks` }),
      toolKeyId: t.exposeString('toolKeyId'),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
    }),
  });
  const LtiPlatformInputRef = builder.inputType('LtiPlatformInput', {
    fields: (t) => ({
      partnerId: t.id({ required: true }),
      issuer: t.string({ required: true, description: 'The platform’s `iss`.' }),
      clientId: t.string({ required: true, description: 'CareGraph’s client id at the platform.' }),
      deploymentIds: t.stringList({ required: true }),
      authLoginUrl: t.string({ required: true, description: 'The platform’s OIDC authorization endpoint.' }),
      accessTokenUrl: t.string({ required: true, description: 'The platform’s OAuth 2 token endpoint (for Assignment and Grade Services).' }),
      jwksUrl: t.string({ required: true, description: 'The platform’s public keys.' }),
    }),
  });

  builder.queryFields((t) => ({
    ltiPlatforms: t.prismaField({
      type: [LtiPlatformRef],
      description: 'The organization’s LTI platforms (admins), optionally one partner’s.',
      args: { partnerId: t.arg.id({ required: false }) },
      resolve: (_query, _root, args, ctx) => listLtiPlatforms(ctx, args.partnerId ? String(args.partnerId) : null),
    }),
    partners: t.prismaField({
      type: [PartnerRef],
      description: 'The organization’s partners (admins); a partner’s own record (partners).',
      resolve: (query, _root, _args, ctx) => listPartners(ctx, query),
    }),
    partner: t.prismaField({
      type: PartnerRef,
      args: { id: t.arg.id({ required: true }) },
      resolve: (query, _root, args, ctx) => findPartner(ctx, String(args.id), query),
    }),
  }));

  builder.mutationFields((t) => ({
    registerPartner: t.field({
      type: PartnerWithSecretRef,
      description: 'Registers a partner of your organization. Audited; announced as `training.partner.registered`.',
      args: { input: t.arg({ type: RegisterPartnerInput, required: true }) },
      resolve: (_root, { input }, ctx) =>
        registerPartner(ctx, { name: input.name, launchIssuer: input.launchIssuer, launchSigning: input.launchSigning, jwksUrl: input.jwksUrl ?? null, oidc: input.oidcProvider ?? null, learnerAppUrl: input.learnerAppUrl ?? null }),
    }),
    updatePartner: t.field({
      type: PartnerRef,
      description: 'Changes a partner’s name, JWKS URL, OIDC provider or learner app URL. Audited.',
      args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdatePartnerInput, required: true }) },
      resolve: (_root, { id, input }, ctx): Promise<Partner> => updatePartner(ctx, String(id), { name: input.name, jwksUrl: input.jwksUrl, oidc: input.oidcProvider, learnerAppUrl: input.learnerAppUrl }),
    }),
    rotatePartnerLaunchSecret: t.field({
      type: PartnerWithSecretRef,
      description: 'A new launch secret, shown once; the old one keeps working for overlapSeconds (default a day, at most 7 days). Audited.',
      args: { partnerId: t.arg.id({ required: true }), overlapSeconds: t.arg.int({ required: false }) },
      resolve: (_root, args, ctx) => rotateLaunchSecret(ctx, String(args.partnerId), args.overlapSeconds ?? undefined),
    }),
    registerLtiPlatform: t.prismaField({
      type: LtiPlatformRef,
      description: 'Registers an LTI 1.3 platform for one of your partners: its learners launch from it, their scores go back to it. Audited.',
      args: { input: t.arg({ type: LtiPlatformInputRef, required: true }) },
      resolve: (_query, _root, { input }, ctx) => registerLtiPlatform(ctx, { ...input, partnerId: String(input.partnerId) }),
    }),
    createCohort: t.prismaField({
      type: 'Cohort',
      description: 'A cohort of one of your organization’s partners. Audited; announced as `training.cohort.registered`.',
      args: { input: t.arg({ type: CreateCohortInput, required: true }) },
      resolve: (query, _root, { input }, ctx) => createCohort(ctx, { partnerId: String(input.partnerId), name: input.name }, query),
    }),
    renameCohort: t.prismaField({
      type: 'Cohort',
      args: { id: t.arg.id({ required: true }), name: t.arg.string({ required: true }) },
      resolve: (query, _root, args, ctx) => renameCohort(ctx, String(args.id), args.name, query),
    }),
    archiveCohort: t.prismaField({
      type: 'Cohort',
      description: 'Archives a cohort: its records and figures stay; it takes no new launches, sign-ins or assignments. Idempotent; audited.',
      args: { id: t.arg.id({ required: true }) },
      resolve: (query, _root, args, ctx) => archiveCohort(ctx, String(args.id), query),
    }),
  }));
}
