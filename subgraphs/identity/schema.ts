import type { GraphQLSchema } from 'graphql';
import { createBuilder, toSubgraphSchema } from '../kit/builder.js';
import { ROLES, type RoleName } from '../kit/identity.js';
import * as identity from './service.js';
import * as notifications from './notifications.js';

/** The identity subgraph's types. Resolvers only translate: the rules live in the services (service.ts) and the access policies (policies.ts). */
export function buildIdentitySchema(): GraphQLSchema {
  const builder = createBuilder();

  const RoleEnum = builder.enumType('Role', { values: ROLES });
  const OrganizationKindEnum = builder.enumType('OrganizationKind', { values: ['CLINIC', 'CHAIN', 'HOSPITAL'] as const });
  const SexEnum = builder.enumType('Sex', { values: ['FEMALE', 'MALE', 'OTHER', 'UNKNOWN'] as const });

  const Organization = builder.prismaObject('Organization', {
    fields: (t) => ({
      id: t.exposeID('id'),
      name: t.exposeString('name'),
      kind: t.field({ type: OrganizationKindEnum, resolve: (org) => org.kind }),
      parent: t.relation('parent', { nullable: true }),
    }),
  });

  const Membership = builder.prismaObject('Membership', {
    fields: (t) => ({
      role: t.field({ type: RoleEnum, resolve: (m) => m.role }),
      organization: t.relation('organization'),
    }),
  });

  interface Contact { phone: string | null; email: string | null; addressLine: string | null; city: string | null; country: string | null }
  const ContactPoint = builder.objectRef<Contact>('ContactPoint').implement({
    fields: (t) => ({
      phone: t.exposeString('phone', { nullable: true }),
      email: t.exposeString('email', { nullable: true }),
      addressLine: t.exposeString('addressLine', { nullable: true }),
      city: t.exposeString('city', { nullable: true }),
      country: t.exposeString('country', { nullable: true }),
    }),
  });

  const ChannelEnum = builder.enumType('NotificationChannel', { values: ['SMS', 'WHATSAPP', 'EMAIL'] as const });
  const NotificationStatusEnum = builder.enumType('NotificationStatus', { values: ['SCHEDULED', 'SENDING', 'QUEUED', 'SENT', 'DELIVERED', 'UNDELIVERED', 'FAILED', 'CANCELLED', 'SUPPRESSED'] as const });
  const NotificationKindEnum = builder.enumType('NotificationKind', { values: notifications.NOTIFICATION_KINDS });
  const NotificationRef = builder.prismaObject('Notification', {
    description: 'A message to a patient: when it is due, and how far it got.',
    fields: (t) => ({
      id: t.exposeID('id'),
      kind: t.field({ type: NotificationKindEnum, resolve: (n) => n.kind as notifications.NotificationKind }),
      channel: t.field({ type: ChannelEnum, resolve: (n) => n.channel }),
      status: t.field({ type: NotificationStatusEnum, resolve: (n) => n.status }),
      sendAt: t.expose('sendAt', { type: 'DateTime' }),
      sentAt: t.expose('sentAt', { type: 'DateTime', nullable: true }),
      deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
      attempts: t.exposeInt('attempts'),
      lastProblem: t.exposeString('lastError', { nullable: true }),
    }),
  });
  const TemplateRef = builder.prismaObject('NotificationTemplate', {
    fields: (t) => ({
      kind: t.exposeString('kind'),
      channel: t.field({ type: ChannelEnum, resolve: (n) => n.channel }),
      subject: t.exposeString('subject', { nullable: true }),
      body: t.exposeString('body', { description: 'Placeholders: {{firstName}}, {{organization}}, {{startsAt}}, {{joinUrl}}, {{bookUrl}}, {{amount}}.' }),
    }),
  });
  const Patient = builder.prismaObject('Patient', {
    fields: (t) => ({
      id: t.exposeID('id'),
      mrn: t.exposeString('mrn', { description: 'Medical record number, unique within the organization.' }),
      givenName: t.exposeString('givenName'),
      familyName: t.exposeString('familyName'),
      name: t.string({ description: 'Given and family name, for display.', resolve: (p) => `${p.givenName} ${p.familyName}` }),
      birthDate: t.field({ type: 'Date', resolve: (p) => p.birthDate }),
      sex: t.field({ type: SexEnum, nullable: true, resolve: (p) => (p.sex as 'FEMALE' | 'MALE' | 'OTHER' | 'UNKNOWN' | null) ?? null }),
      contact: t.field({
        type: ContactPoint,
        resolve: (p) => ({ phone: p.phone, email: p.email, addressLine: p.addressLine, city: p.city, country: p.country }),
      }),
      // Loaded by id (batched) rather than as a relation of the patient row, which would read the patient again.
      organization: t.field({ type: Organization, resolve: (p, _args, ctx) => identity.loadOrganization(ctx, p.organizationId) }),
      updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
      notifications: t.field({
        type: [NotificationRef], description: 'Messages sent or due to the patient (SMS, WhatsApp, email), newest first, with their delivery status.',
        resolve: (p, _args, ctx) => notifications.notificationsOfPatient(ctx, p.id),
      }),
    }),
  });
  builder.asEntity(Patient, {
    key: builder.selection<{ id: string }>('id'),
    resolveReference: (ref, ctx) => identity.loadPatient(ctx, ref.id),
  });

  const User = builder.prismaObject('User', {
    fields: (t) => ({
      id: t.exposeID('id'),
      displayName: t.exposeString('displayName'),
      email: t.exposeString('email'),
      roles: t.field({ type: [RoleEnum], resolve: (user, _args, ctx) => identity.userRoles(ctx, user.id) }),
      memberships: t.field({ type: [Membership], select: { memberships: true }, resolve: (user) => user.memberships }),
      deactivatedAt: t.expose('deactivatedAt', { type: 'DateTime', nullable: true, description: 'When an admin deactivated the user: their tokens are refused and they cannot sign in.' }),
      // Through the patient path, so reading it is checked and audited like any patient read.
      patient: t.field({ type: Patient, nullable: true, resolve: (user, _args, ctx) => identity.userPatient(ctx, user) }),
    }),
  });
  builder.asEntity(User, {
    key: builder.selection<{ id: string }>('id'),
    resolveReference: (ref, ctx) => identity.loadUser(ctx, ref.id),
  });

  builder.prismaObject('Practitioner', {
    fields: (t) => ({
      id: t.exposeID('id'),
      name: t.exposeString('name'),
      qualification: t.exposeString('qualification', { nullable: true }),
      specialty: t.exposeString('specialty', { nullable: true }),
      organization: t.relation('organization'),
    }),
  });

  const ApiKey = builder.prismaObject('ApiKey', {
    fields: (t) => ({
      id: t.exposeID('id'),
      name: t.exposeString('name'),
      role: t.field({ type: RoleEnum, resolve: (k) => k.role }),
      partnerId: t.exposeID('partnerId', { nullable: true, description: 'The training partner a PARTNER key acts for.' }),
      prefix: t.exposeString('prefix', { description: 'The first characters of the key, to tell keys apart.' }),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
      revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
      lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    }),
  });

  const CreatedApiKey = builder.objectRef<Awaited<ReturnType<typeof identity.createApiKey>>>('CreatedApiKey').implement({
    description: 'The key is shown only here, once; CareGraph keeps only its hash.',
    fields: (t) => ({ key: t.exposeString('key'), apiKey: t.field({ type: ApiKey, resolve: (created) => created.apiKey }) }),
  });

  const CreatePatientInput = builder.inputType('CreatePatientInput', {
    fields: (t) => ({
      organizationId: t.id({ required: false, description: 'Defaults to the caller’s organization' }),
      mrn: t.string({ required: true, description: 'Medical record number, unique within the organization' }),
      givenName: t.string({ required: true }),
      familyName: t.string({ required: true }),
      birthDate: t.field({ type: 'Date', required: true }),
      sex: t.field({ type: SexEnum, required: false }),
      phone: t.string({ required: false }),
      email: t.string({ required: false }),
      addressLine: t.string({ required: false }),
      city: t.string({ required: false }),
      country: t.string({ required: false, description: 'ISO 3166 alpha-2 country code' }),
    }),
  });

  const UpdatePatientInput = builder.inputType('UpdatePatientInput', {
    fields: (t) => ({
      mrn: t.string({ required: false }),
      givenName: t.string({ required: false }),
      familyName: t.string({ required: false }),
      birthDate: t.field({ type: 'Date', required: false }),
      sex: t.field({ type: SexEnum, required: false }),
      phone: t.string({ required: false }),
      email: t.string({ required: false }),
      addressLine: t.string({ required: false }),
      city: t.string({ required: false }),
      country: t.string({ required: false }),
    }),
  });

  const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
    fields: (t) => ({
      name: t.string({ required: true }),
      role: t.field({ type: RoleEnum, required: true }),
      partnerId: t.id({ required: false, description: 'Required for role PARTNER: the training partner (of your organization) the key acts for.' }),
    }),
  });

  const WebhookEndpointRef = builder.prismaObject('WebhookEndpoint', {
    fields: (t) => ({
      id: t.exposeID('id'),
      url: t.exposeString('url'),
      eventTypes: t.exposeStringList('eventTypes'),
      partnerId: t.exposeID('partnerId', { nullable: true }),
      active: t.exposeBoolean('active'),
      createdAt: t.expose('createdAt', { type: 'DateTime' }),
    }),
  });
  const CreatedWebhookEndpoint = builder.objectRef<Awaited<ReturnType<typeof identity.createWebhookEndpoint>>>('CreatedWebhookEndpoint').implement({
    description: 'The signing secret is shown only here, once.',
    fields: (t) => ({ secret: t.exposeString('secret'), endpoint: t.field({ type: WebhookEndpointRef, resolve: (created) => created.endpoint }) }),
  });
  const DeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', { values: ['PENDING', 'DELIVERED', 'DEAD'] as const });
  const WebhookDeliveryRef = builder.objectRef<identity.DeliveryRow>('WebhookDelivery').implement({
    fields: (t) => ({
      id: t.exposeID('id', { description: 'The delivery id receivers de-duplicate on.' }),
      endpointId: t.exposeID('endpointId'),
      eventType: t.exposeString('eventType'),
      status: t.field({ type: DeliveryStatusEnum, resolve: (d) => d.status }),
      attempts: t.exposeInt('attempts'),
      lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true }),
      lastError: t.exposeString('lastError', { nullable: true }),
      nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime' }),
      deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
    }),
  });
  const WebhookDeliveryConnection = builder.connectionObject({ type: WebhookDeliveryRef, name: 'WebhookDeliveryConnection' }, { name: 'WebhookDeliveryEdge' });
  const CreateWebhookEndpointInput = builder.inputType('CreateWebhookEndpointInput', {
    fields: (t) => ({
      url: t.string({ required: true }),
      eventTypes: t.stringList({ required: true, description: 'e.g. training.session.completed, or * for all' }),
      partnerId: t.id({ required: false, description: 'Only events for this training partner' }),
    }),
  });

  builder.queryFields((t) => ({
    notificationTemplates: t.field({ type: [TemplateRef], description: 'The organization’s own wording of its messages (the built-in one applies where there is none).', resolve: (_root, _args, ctx) => notifications.templatesOf(ctx) }),
    webhookEndpoints: t.field({ type: [WebhookEndpointRef], resolve: (_root, _args, ctx) => identity.listWebhookEndpoints(ctx) }),
    webhookDeliveries: t.field({
      type: WebhookDeliveryConnection,
      description: 'The organization’s webhook deliveries, newest first, a page at a time.',
      args: {
        status: t.arg({ type: DeliveryStatusEnum, required: false }),
        first: t.arg.int({ required: false, defaultValue: identity.DELIVERIES_PAGE.default, description: `At most ${identity.DELIVERIES_PAGE.max}.` }),
        after: t.arg.string({ required: false, description: 'The endCursor of the previous page.' }),
      },
      resolve: (_root, args, ctx) => identity.listWebhookDeliveries(ctx, { status: args.status, first: args.first, after: args.after }),
    }),
  }));

  builder.mutationFields((t) => ({
    setNotificationTemplate: t.field({
      type: TemplateRef, description: 'The organization’s wording of one kind of message on one channel.',
      args: { kind: t.arg({ type: NotificationKindEnum, required: true }), channel: t.arg({ type: ChannelEnum, required: true }), subject: t.arg.string({ required: false }), body: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => notifications.setTemplate(ctx, { kind: args.kind, channel: args.channel, subject: args.subject ?? null, body: args.body }),
    }),
    createWebhookEndpoint: t.field({
      type: CreatedWebhookEndpoint,
      args: { input: t.arg({ type: CreateWebhookEndpointInput, required: true }) },
      resolve: (_root, { input }, ctx) => identity.createWebhookEndpoint(ctx, { url: input.url, eventTypes: input.eventTypes, partnerId: input.partnerId ? String(input.partnerId) : null }),
    }),
    deactivateWebhookEndpoint: t.field({
      type: WebhookEndpointRef,
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, args, ctx) => identity.deactivateWebhookEndpoint(ctx, String(args.id)),
    }),
    replayWebhookDeadLetters: t.int({
      description: 'Requeues dead-lettered deliveries (all of the organization’s, or the ids given); returns how many.',
      args: { deliveryIds: t.arg.idList({ required: false }) },
      resolve: (_root, args, ctx) => identity.replayWebhookDeadLetters(ctx, args.deliveryIds?.map(String)),
    }),
  }));

  builder.queryFields((t) => ({
    me: t.prismaField({
      type: 'User',
      nullable: true,
      description: 'The signed-in user; null for API keys and services.',
      resolve: (query, _root, _args, ctx) => identity.currentUser(ctx, query),
    }),
    patient: t.field({
      type: Patient,
      nullable: true,
      args: { id: t.arg.id({ required: true }) },
      // Batched through the request's loader (shared with _entities), so no planned Prisma query here.
      resolve: (_root, args, ctx) => identity.loadPatient(ctx, String(args.id)),
    }),
    patients: t.prismaConnection({
      type: 'Patient',
      cursor: 'id',
      defaultSize: 20,
      maxSize: 100,
      args: { search: t.arg.string({ required: false, description: 'Part of a name, or an exact MRN' }) },
      resolve: (query, _root, args, ctx) => identity.searchPatients(ctx, args.search, query),
    }, { name: 'PatientConnection' }, { name: 'PatientEdge' }),
    practitioners: t.prismaField({
      type: ['Practitioner'],
      description: 'Practitioners of the caller’s organizations.',
      resolve: (query, _root, _args, ctx) => identity.listPractitioners(ctx, query),
    }),
    apiKeys: t.field({ type: [ApiKey], resolve: (_root, _args, ctx) => identity.listApiKeys(ctx) }),
  }));

  builder.mutationFields((t) => ({
    createPatient: t.prismaField({
      type: 'Patient',
      args: { input: t.arg({ type: CreatePatientInput, required: true }) },
      resolve: (query, _root, { input }, ctx) => identity.createPatient(ctx, input, query),
    }),
    updatePatient: t.prismaField({
      type: 'Patient',
      args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdatePatientInput, required: true }) },
      resolve: (query, _root, args, ctx) => identity.updatePatient(ctx, String(args.id), args.input, query),
    }),
    createApiKey: t.field({
      type: CreatedApiKey,
      args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
      resolve: (_root, { input }, ctx) => identity.createApiKey(ctx, { name: input.name, role: input.role as RoleName, partnerId: input.partnerId ? String(input.partnerId) : null }),
    }),
    deactivateUser: t.prismaField({
      type: 'User',
      description: 'Deactivates a member of the admin’s organization: their tokens are refused and they cannot sign in. Idempotent.',
      args: { id: t.arg.id({ required: true }) },
      resolve: (query, _root, args, ctx) => identity.deactivateUser(ctx, String(args.id), query),
    }),
    revokeApiKey: t.field({
      type: ApiKey,
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, args, ctx) => identity.revokeApiKey(ctx, String(args.id)),
    }),
  }));

  return toSubgraphSchema(builder);
}
