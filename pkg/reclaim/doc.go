// Package reclaim plans which borrowed executors to take back so that the waiting executors of
// farms below their minimum fit. It works in the resources pods request, node by node: a big
// waiting executor may need several small victims on one node, and one big victim may make room
// for several small waiting executors, the room it leaves counting for the next one before
// anything else is evicted.
//
// A plan follows Farm's rule, in this order of importance:
//  1. place as many waiting executors as some admissible set of victims can;
//  2. with the fewest evictions;
//  3. split across victim farms in proportion to their overquota (largest remainder, counting
//     executors already leaving), as far as 1 and 2 allow, and report where it could not;
//  4. least disruption: fewest nodes touched, lower priority, youngest.
//
// Admissibility (which executors are victims at all, which nodes a waiting pod may use, what a
// PodDisruptionBudget still allows) is decided by the caller and handed in as data; the package
// is pure: no client, no informer, no clock. Small problems are solved exactly; larger ones by a
// greedy pass whose choices follow the same order (see Solve).
package reclaim
