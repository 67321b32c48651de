// Package input reads the parts of a reclaim.Problem from cluster objects: the resources a plan
// measures (Dimensions), the PodDisruptionBudgets' allowances (Budgets), a node's room and
// admissible victims (NodeReader), and whether a node's labels and taints admit a pod (Admits).
// farm-scheduler reads its scheduling snapshot with it, and kubectl farm what-if reads the live
// cluster with it, so that a preview plans on the same rules as the scheduler.
package input
