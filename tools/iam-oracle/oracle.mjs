#!/usr/bin/env node
// ssmlog IAM oracle: evaluates requests written in the form of docs/iam-request.md with
// @cloud-copilot/iam-simulate, so that ssmlog's own engine can be tested against an
// independent implementation.
//
//   node oracle.mjs            JSON Lines in (one request a line), JSON Lines out:
//                              {"decision": "Allowed"|"ImplicitlyDenied"|"ExplicitlyDenied"|null,
//                               "error": null|"why iam-simulate cannot answer this request"}
//   node oracle.mjs --bench N  reads one request, evaluates it N times after a warm-up and
//                              prints {"decisionsPerSecond": X, "decision": ..., ...}
//
// The oracle never crashes on a bad request: every failure becomes an "error" line, so the
// n-th output line always answers the n-th non-blank input line.

import { createInterface } from 'node:readline';
import {
  createValidatedPolicy,
  validateIdentityPolicy,
  validateResourceControlPolicy,
  validateResourcePolicy,
  validateServiceControlPolicy
} from '@cloud-copilot/iam-policy';
import {
  allowedContextKeysForRequest,
  anonymousPrincipal,
  isConditionKeyArray,
  runSimulation,
  runUnsafeSimulation,
  typeForContextKey
} from '@cloud-copilot/iam-simulate';

/** A request that iam-simulate cannot represent faithfully. */
class Unrepresentable extends Error {}

const fail = (message) => {
  throw new Unrepresentable(message);
};

const ACCOUNT_RE = /^\d{12}$/;

/**
 * Classifies `principal.arn` of the request form.
 *
 * @returns {{kind: string, account?: string, name?: string, roleArn?: string, simPrincipal: any, principalArn?: string}}
 */
function classifyPrincipal(arn) {
  if (typeof arn !== 'string' || arn.length === 0) {
    fail('`principal.arn` must be a non-empty string');
  }
  if (arn === 'anonymous' || arn === '*') {
    return { kind: 'anonymous', simPrincipal: anonymousPrincipal };
  }
  if (!arn.startsWith('arn:')) {
    if (/^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/.test(arn)) {
      return { kind: 'service', simPrincipal: arn };
    }
    if (ACCOUNT_RE.test(arn)) {
      const root = `arn:aws:iam::${arn}:root`;
      return { kind: 'root', account: arn, simPrincipal: root, principalArn: root };
    }
    fail(`principal \`${arn}\` is neither an ARN, a service principal nor \`anonymous\``);
  }
  const parts = arn.split(':');
  if (parts.length < 6) {
    fail(`principal ARN \`${arn}\` has fewer than six colon-separated parts`);
  }
  const [, partition, service, , account] = parts;
  const resource = parts.slice(5).join(':');
  if (!ACCOUNT_RE.test(account)) {
    fail(`principal ARN \`${arn}\` has no 12-digit account id`);
  }
  if (service === 'iam') {
    if (resource === 'root') {
      return { kind: 'root', account, simPrincipal: arn, principalArn: arn };
    }
    if (resource.startsWith('user/')) {
      const name = resource.slice(resource.lastIndexOf('/') + 1);
      return { kind: 'user', account, name, simPrincipal: arn, principalArn: arn };
    }
    if (resource.startsWith('role/')) {
      // The request form takes a role ARN as a session of that role. iam-simulate would
      // treat the bare role ARN as an exact principal (which AWS never sees on a request),
      // so it is given a session of the role instead; aws:PrincipalArn stays the role ARN.
      const roleName = resource.slice(resource.lastIndexOf('/') + 1);
      const session = `arn:${partition}:sts::${account}:assumed-role/${roleName}/ssmlog-oracle`;
      return { kind: 'role', account, simPrincipal: session, principalArn: arn };
    }
    fail(`IAM principal \`${arn}\` is not a user, role or root ARN`);
  }
  if (service === 'sts') {
    if (resource.startsWith('assumed-role/')) {
      const segments = resource.split('/');
      if (segments.length < 3) {
        fail(`assumed-role ARN \`${arn}\` lacks a role or session name`);
      }
      // The session ARN carries no role path; the role is taken to have path `/`.
      const roleArn = `arn:${partition}:iam::${account}:role/${segments[1]}`;
      return { kind: 'assumed-role', account, simPrincipal: arn, principalArn: roleArn };
    }
    if (resource.startsWith('federated-user/')) {
      return { kind: 'federated-user', account, simPrincipal: arn, principalArn: arn };
    }
  }
  fail(`principal ARN \`${arn}\` is of a kind the oracle does not know`);
}

/** aws:PrincipalType per the IAM global condition key reference. */
const PRINCIPAL_TYPE = {
  root: 'Account',
  user: 'User',
  role: 'AssumedRole',
  'assumed-role': 'AssumedRole',
  'federated-user': 'FederatedUser',
  anonymous: 'Anonymous'
};

function requireObject(value, what) {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(`${what} must be a JSON object`);
  }
  return value;
}

function namedPolicy(entry, what) {
  requireObject(entry, what);
  if (typeof entry.name !== 'string') {
    fail(`${what}.name must be a string`);
  }
  requireObject(entry.document, `${what}.document`);
  return { name: entry.name, policy: entry.document };
}

function orgLevels(levels, what) {
  if (levels === undefined || levels === null) {
    return [];
  }
  if (!Array.isArray(levels)) {
    fail(`${what} must be an array of levels`);
  }
  return levels.map((level, i) => {
    requireObject(level, `${what}[${i}]`);
    if (typeof level.target !== 'string') {
      fail(`${what}[${i}].target must be a string`);
    }
    if (!Array.isArray(level.policies)) {
      fail(`${what}[${i}].policies must be an array`);
    }
    return {
      orgIdentifier: level.target,
      policies: level.policies.map((p, j) => namedPolicy(p, `${what}[${i}].policies[${j}]`))
    };
  });
}

function resourceAccountOf(resource, principal) {
  if (typeof resource.account === 'string' && resource.account !== '') {
    if (!ACCOUNT_RE.test(resource.account)) {
      fail(`\`resource.account\` \`${resource.account}\` is not a 12-digit account id`);
    }
    return resource.account;
  }
  const arn = resource.arn;
  if (arn === '*') {
    if (principal.account) {
      return principal.account;
    }
    fail('`resource.arn` is `*` and neither `resource.account` nor the principal names an account');
  }
  const account = arn.split(':')[4];
  if (account && ACCOUNT_RE.test(account)) {
    return account;
  }
  fail(`resource \`${arn}\` carries no account id and \`resource.account\` is not set`);
}

const isStar = (v) => v === '*' || (Array.isArray(v) && v.length === 1 && v[0] === '*');

/** Is this policy document the AWS-managed RCPFullAWSAccess (allow everything, no condition)? */
function isRcpFullAwsAccess(policy) {
  const statements = Array.isArray(policy?.Statement) ? policy.Statement : [policy?.Statement];
  return (
    statements.length === 1 &&
    statements[0]?.Effect === 'Allow' &&
    (isStar(statements[0].Principal) || isStar(statements[0].Principal?.AWS)) &&
    isStar(statements[0].Action) &&
    isStar(statements[0].Resource) &&
    statements[0].Condition === undefined &&
    Object.keys(statements[0]).every((k) => ['Sid', 'Effect', 'Principal', 'Action', 'Resource'].includes(k))
  );
}

/**
 * AWS attaches RCPFullAWSAccess to every root, OU and account and it cannot be detached;
 * iam-simulate adds it to every level itself and accepts only Deny statements in the others.
 * The request form lists it explicitly, so it is taken out here; a level without it
 * describes an organization AWS cannot have.
 */
function withoutRcpFullAwsAccess(level) {
  const rest = level.policies.filter((p) => !isRcpFullAwsAccess(p.policy));
  if (rest.length === level.policies.length) {
    fail(
      `RCP level \`${level.orgIdentifier}\` lacks RCPFullAWSAccess, which AWS attaches to every level and which cannot be detached`
    );
  }
  return { ...level, policies: rest };
}

/** Sets a context value unless the request's context already has the key (any case). */
function derive(context, seen, key, value) {
  if (value === undefined || value === null) {
    return;
  }
  if (!seen.has(key.toLowerCase())) {
    context[key] = value;
    seen.add(key.toLowerCase());
  }
}

/**
 * Normalises context values the way the request form means them and refuses what
 * iam-simulate would silently reshape (several values for a single-valued key).
 */
async function normaliseContext(context) {
  const out = {};
  for (const [key, raw] of Object.entries(context)) {
    let type;
    try {
      type = await typeForContextKey(key);
    } catch {
      fail(`context key \`${key}\` is unknown to iam-simulate's data, which would drop it`);
    }
    const values = Array.isArray(raw) ? raw : [raw];
    for (const v of values) {
      if (typeof v !== 'string') {
        fail(`context key \`${key}\` has a non-string value; the request form writes all values as strings`);
      }
    }
    if (isConditionKeyArray(type)) {
      out[key] = values;
    } else if (values.length === 1) {
      out[key] = values[0];
    } else {
      fail(
        `context key \`${key}\` is single-valued (${type}) in iam-simulate's data but the request gives ${values.length} values`
      );
    }
  }
  return out;
}

/**
 * Maps one request of docs/iam-request.md onto an iam-simulate Simulation.
 */
export async function toSimulation(req) {
  requireObject(req, 'the request');
  const principalIn = requireObject(req.principal, '`principal`');
  const resourceIn = requireObject(req.resource, '`resource`');
  if (typeof req.action !== 'string') {
    fail('`action` must be a string');
  }
  if (typeof resourceIn.arn !== 'string' || resourceIn.arn === '') {
    fail('`resource.arn` must be a non-empty string');
  }
  const policies = req.policies === undefined ? {} : requireObject(req.policies, '`policies`');
  const principal = classifyPrincipal(principalIn.arn);
  const resourceAccount = resourceAccountOf(resourceIn, principal);
  const arn = resourceIn.arn;
  if (arn !== '*' && arn.includes('*')) {
    fail('`resource.arn` contains `*`: iam-simulate would read it as a pattern and run several simulations');
  }

  const identity = (policies.identity ?? []).map((p, i) => namedPolicy(p, `policies.identity[${i}]`));
  const boundary = policies.permissionsBoundary
    ? [namedPolicy(policies.permissionsBoundary, 'policies.permissionsBoundary')]
    : undefined;
  const session = policies.sessionPolicy
    ? namedPolicy(policies.sessionPolicy, 'policies.sessionPolicy').policy
    : undefined;
  const resourcePolicy = policies.resourcePolicy
    ? namedPolicy(policies.resourcePolicy, 'policies.resourcePolicy').policy
    : undefined;
  let scps = orgLevels(policies.scps, 'policies.scps');
  let rcps = orgLevels(policies.rcps, 'policies.rcps').map(withoutRcpFullAwsAccess);
  // Per the request form: SCPs and RCPs do not apply to the management account, and RCPs
  // do not apply to service principals.
  if (req.principalInManagementAccount === true) {
    scps = [];
  }
  if (req.resourceInManagementAccount === true || principal.kind === 'service') {
    rcps = [];
  }

  if (principal.kind === 'anonymous') {
    if (identity.length > 0 || boundary || session || scps.length > 0) {
      fail('an anonymous request has no identity, boundary, session or service control policies');
    }
  }
  if (session && !['role', 'assumed-role', 'federated-user'].includes(principal.kind)) {
    fail('a session policy needs a role session or federated-user principal');
  }

  // Context: the request's own keys first, then what iam-simulate does not derive itself.
  const given = req.context === undefined || req.context === null ? {} : requireObject(req.context, '`context`');
  const context = { ...given };
  const seen = new Set(Object.keys(given).map((k) => k.toLowerCase()));
  const isSigned = principal.kind !== 'anonymous';
  derive(context, seen, 'aws:PrincipalArn', principal.principalArn);
  derive(context, seen, 'aws:PrincipalAccount', principal.account);
  derive(context, seen, 'aws:PrincipalType', PRINCIPAL_TYPE[principal.kind]);
  if (isSigned) {
    derive(context, seen, 'aws:PrincipalIsAWSService', principal.kind === 'service' ? 'true' : 'false');
  }
  if (principal.kind === 'user') {
    derive(context, seen, 'aws:username', principal.name);
  }
  if (principal.kind === 'service') {
    derive(context, seen, 'aws:PrincipalServiceName', principalIn.arn);
  }
  if (principal.kind !== 'service' && principal.kind !== 'anonymous') {
    if (typeof principalIn.orgId === 'string') {
      derive(context, seen, 'aws:PrincipalOrgID', principalIn.orgId);
    }
    if (Array.isArray(principalIn.orgPaths) && principalIn.orgPaths.length > 0) {
      derive(context, seen, 'aws:PrincipalOrgPaths', principalIn.orgPaths);
    }
    for (const [tag, value] of Object.entries(principalIn.tags ?? {})) {
      derive(context, seen, `aws:PrincipalTag/${tag}`, value);
    }
  }
  derive(context, seen, 'aws:ResourceAccount', resourceAccount);
  if (typeof resourceIn.orgId === 'string') {
    derive(context, seen, 'aws:ResourceOrgID', resourceIn.orgId);
  }
  const resourceTags = Object.entries(resourceIn.tags ?? {});
  for (const [tag, value] of resourceTags) {
    derive(context, seen, `aws:ResourceTag/${tag}`, value);
  }

  const simulation = {
    request: {
      principal: principal.simPrincipal,
      action: req.action,
      resource: { resource: arn, accountId: resourceAccount },
      contextVariables: await normaliseContext(context)
    },
    identityPolicies: principal.kind === 'anonymous' ? [] : identity,
    serviceControlPolicies: scps,
    resourceControlPolicies: rcps,
    resourcePolicy,
    permissionBoundaryPolicies: boundary,
    sessionPolicy: session
  };
  // iam-simulate drops aws:ResourceTag/* for S3 unless the bucket has ABAC turned on; a
  // request that gives resource tags for S3 means them to be visible.
  if (resourceTags.length > 0 && arn.startsWith('arn:aws:s3:::')) {
    simulation.additionalSettings = { s3: { bucketAbacEnabled: true } };
  }
  return simulation;
}

function errorText(errors) {
  const { message, ...detail } = errors;
  const rest = Object.keys(detail).length > 0 ? `: ${JSON.stringify(detail)}` : '';
  return `iam-simulate refused the request (${message})${rest}`;
}

/** The managed RCP that AWS attaches to every root, OU and account and that cannot be detached. */
const RCP_FULL_AWS_ACCESS = {
  name: 'arn:aws:organizations::aws:policy/resource_control_policy/p-RCPFullAWSAccess',
  policy: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' }]
  }
};

/**
 * Context keys whose name carries a variable part without a `/` (such as
 * `kms:EncryptionContext:aws:s3:arn` for `kms:EncryptionContext:${EncryptionContextKey}`).
 * runSimulation only matches variable keys on a `/`, so it drops these although its data
 * lists them for the action.
 */
async function variableKeysDroppedByMistake(req, ignored) {
  const [service, action] = req.action.split(':');
  let allowed;
  try {
    allowed = await allowedContextKeysForRequest(service, action, req.resource.arn, false);
  } catch {
    return false;
  }
  const prefixes = allowed.filter((k) => k.includes('${')).map((k) => k.slice(0, k.indexOf('${')));
  return ignored.every((key) => prefixes.some((p) => p.length > 0 && key.toLowerCase().startsWith(p)));
}

/** Wraps each policy as a ValidatedPolicy so later runs reuse its validation and keep its name. */
function validated(simulation) {
  const wrap = (p, fn) => ({ name: p.name, policy: createValidatedPolicy(p.policy, fn, { name: p.name }) });
  return {
    ...simulation,
    identityPolicies: simulation.identityPolicies.map((p) => wrap(p, validateIdentityPolicy)),
    serviceControlPolicies: simulation.serviceControlPolicies.map((l) => ({
      ...l,
      policies: l.policies.map((p) => wrap(p, validateServiceControlPolicy))
    })),
    resourceControlPolicies: simulation.resourceControlPolicies.map((l) => ({
      ...l,
      policies: l.policies.map((p) => wrap(p, validateResourceControlPolicy))
    })),
    permissionBoundaryPolicies: simulation.permissionBoundaryPolicies?.map((p) => wrap(p, validateIdentityPolicy)),
    resourcePolicy: simulation.resourcePolicy
      ? createValidatedPolicy(simulation.resourcePolicy, validateResourcePolicy, { name: 'resource policy' })
      : undefined
  };
}

/**
 * The same simulation for runUnsafeSimulation, which takes the context as given: the
 * default RCP is added to every level as runSimulation would do.
 */
function unsafeVariant(simulation) {
  const v = validated(simulation);
  return {
    ...v,
    resourceControlPolicies: v.resourceControlPolicies.map((l) => ({
      ...l,
      policies: [RCP_FULL_AWS_ACCESS, ...l.policies]
    }))
  };
}

const OPTIONS = { simulationMode: 'Strict' };

/**
 * Prepares one request: maps it, validates it once, and returns a function that
 * evaluates it (what the benchmark times) or an error.
 */
export async function prepare(req) {
  const simulation = await toSimulation(req);
  const result = await runSimulation(simulation, OPTIONS);
  if (result.resultType === 'error') {
    fail(errorText(result.errors));
  }
  const ignored = result.resultType === 'single' ? (result.result.ignoredContextKeys ?? []) : [];
  if (ignored.length === 0) {
    const v = validated(simulation);
    return {
      api: 'runSimulation',
      decision: result.overallResult,
      run: async () => (await runSimulation(v, OPTIONS)).overallResult
    };
  }
  if (!(await variableKeysDroppedByMistake(req, ignored))) {
    fail(
      `context keys not applicable to \`${req.action}\` in iam-simulate's data, which would drop them: ${ignored.join(', ')}`
    );
  }
  if (simulation.sessionPolicy) {
    fail(`context keys ${ignored.join(', ')} need runUnsafeSimulation, which ignores session policies`);
  }
  // The request is valid (runSimulation accepted it); evaluate it with the full context.
  const unsafe = unsafeVariant(simulation);
  const decision = runUnsafeSimulation(unsafe, OPTIONS);
  return { api: 'runUnsafeSimulation', decision, run: async () => runUnsafeSimulation(unsafe, OPTIONS) };
}

/** Evaluates one request; always resolves to an answer object. */
export async function answer(req) {
  try {
    const { decision } = await prepare(req);
    return { decision, error: null };
  } catch (e) {
    const message = e instanceof Unrepresentable ? e.message : `oracle failure: ${e?.message ?? String(e)}`;
    return { decision: null, error: message };
  }
}

async function serve() {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let pending = [];
  const flush = () => {
    if (pending.length > 0) {
      process.stdout.write(pending.join(''));
      pending = [];
    }
  };
  for await (const line of lines) {
    if (line.trim() === '') {
      continue;
    }
    let out;
    try {
      out = await answer(JSON.parse(line));
    } catch (e) {
      out = { decision: null, error: `request is not JSON: ${e.message}` };
    }
    pending.push(JSON.stringify(out) + '\n');
    if (pending.length >= 256) {
      flush();
    }
  }
  flush();
}

async function readFirstRequest() {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  const chunks = [];
  for await (const line of lines) {
    chunks.push(line);
  }
  const text = chunks.join('\n').trim();
  // Accept a pretty-printed single document as well as JSON Lines (first line taken).
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(text.split('\n')[0]);
  }
}

async function timeLoop(n, fn) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    await fn();
  }
  const ns = Number(process.hrtime.bigint() - start);
  return (n * 1e9) / ns;
}

async function bench(n) {
  const req = await readFirstRequest();
  let prepared;
  try {
    prepared = await prepare(req);
  } catch (e) {
    throw new Error(e.message);
  }
  // Policies are validated once (as ssmlog parses an EvalInput once); each iteration is
  // one full call of the evaluation API on the same request.
  const warmup = Math.max(500, Math.min(n, 20000));
  const measure = async (run) => {
    await timeLoop(warmup, run);
    return Math.round(await timeLoop(n, run));
  };
  const decisionsPerSecond = await measure(prepared.run);
  const out = {
    decisionsPerSecond,
    decision: await prepared.run(),
    api: prepared.api,
    iterations: n,
    engine: '@cloud-copilot/iam-simulate',
    node: process.version
  };
  // The other entry point too: runSimulation validates inputs and normalises the context on
  // every call; runUnsafeSimulation is the evaluation core alone.
  const simulation = await toSimulation(req);
  if (prepared.api === 'runSimulation' && !simulation.sessionPolicy) {
    const unsafe = unsafeVariant(simulation);
    out.runUnsafeSimulation = {
      decisionsPerSecond: await measure(async () => runUnsafeSimulation(unsafe, OPTIONS)),
      decision: runUnsafeSimulation(unsafe, OPTIONS)
    };
  } else if (prepared.api === 'runUnsafeSimulation') {
    const v = validated(simulation);
    out.runSimulation = {
      decisionsPerSecond: await measure(async () => (await runSimulation(v, OPTIONS)).overallResult),
      decision: (await runSimulation(v, OPTIONS)).overallResult,
      note: 'drops the context keys named with a variable suffix'
    };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

const args = process.argv.slice(2);
if (args[0] === '--bench') {
  const n = Number.parseInt(args[1] ?? '', 10);
  if (!Number.isFinite(n) || n <= 0) {
    process.stderr.write('usage: oracle.mjs --bench N   (N > 0, one request on stdin)\n');
    process.exit(2);
  }
  bench(n).catch((e) => {
    process.stderr.write(`oracle: benchmark failed: ${e.message}\n`);
    process.exit(1);
  });
} else if (args.length === 0) {
  serve().catch((e) => {
    process.stderr.write(`oracle: ${e.message}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write('usage: oracle.mjs [--bench N] < requests.jsonl\n');
  process.exit(2);
}
