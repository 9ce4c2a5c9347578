import type { RunningNode } from '../../subgraphs/registry-node.js';
import { signedPost } from './signing.js';

/** Posts straight to one subgraph of a node, as a partner registry writes to its own node. */
export async function nodeQuery(node: RunningNode, subgraph: keyof RunningNode['urls'], query: string, variables?: object) {
  const response = await signedPost(node.urls[subgraph]!, subgraph, { query, variables });
  const body = (await response.json()) as { data?: any; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(`${subgraph}: ${body.errors.map((e) => e.message).join('; ')}`);
  return body.data;
}

/** Registers an enterprise "Maker <code>", a model "Model <code>" and `count` units on a node. */
export async function seedNode(node: RunningNode, enterprise: string, model: string, count: number): Promise<string[]> {
  await nodeQuery(node, 'enterprises', `mutation($c: ID!) { registerEnterprise(input: { code: $c, name: "Maker ${enterprise}" }) { code } }`, { c: enterprise });
  await nodeQuery(node, 'product-models', `mutation($c: ID!) { registerProductModel(input: { code: $c, name: "Model ${model}", category: "humanoid" }) { code } }`, { c: model });
  const data = await nodeQuery(node, 'units', `mutation($m: ID!, $n: Int) { registerUnits(input: { model: $m, count: $n }) { code } }`, { m: model, n: count });
  return data.registerUnits.map((u: { code: string }) => u.code);
}
