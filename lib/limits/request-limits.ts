/**
 * The numbers that bound one request, in one place: the gateway refuses a query above them before any
 * subgraph call, and each subgraph refuses an `_entities` fetch larger than any accepted query can need.
 * README ("Limits") lists them; change them here only.
 */

/** Codes one request may carry, across all fields and aliases (`unit`, `units`, `verify`, `verifyMany`...). */
export const MAX_CODES_PER_REQUEST = 1_000;

/**
 * Items any one field may reach once list sizes are multiplied through the nesting (a page of 100 models
 * inside a page of 10 enterprises is 1,000 models). So no entity fetch of an accepted query carries more
 * representations than this, and a subgraph refuses an `_entities` call with more.
 */
export const MAX_ITEMS_PER_FIELD = 1_000;
export const MAX_ENTITY_REPRESENTATIONS = MAX_ITEMS_PER_FIELD;
