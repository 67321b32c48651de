// Package farmcache keeps farm-scheduler's view of every Farm's usage current: which Farm owns
// each pod and each Farm's quota.Usage, updated pod event by pod event (never by recounting all
// pods), plus the pods the scheduler has reserved a node for but not yet bound, so that counts are
// exact between scheduling and binding, and an index of each farm's executors by node, so that a
// reclaim finds the nodes worth planning on without visiting every executor.
package farmcache
