package farm

// Reasons of the events farm-scheduler records about a reclaim.
const (
	// EventReclaimed is recorded on each evicted executor, related to the pod it was evicted for.
	EventReclaimed = "Reclaimed"
	// EventReclaiming is recorded on the waiting pod for each executor evicted for it.
	EventReclaiming = "Reclaiming"
	// EventReclaimBlocked is recorded on the waiting pod when an eviction is refused, or when
	// PodDisruptionBudgets or refusals leave no room to make for it.
	EventReclaimBlocked = "ReclaimBlocked"
	// EventReclaimDisproportionate is recorded on the waiting pod when the plan's split across
	// victim farms is not proportional to their overquota (executor sizes, node pools or budgets
	// decided), with each farm's evictions and share.
	EventReclaimDisproportionate = "ReclaimDisproportionate"
	// EventRoomTaken is recorded on the waiting pod when the room a reclaim made for it was taken
	// by another pod before it landed; the reclaim is made again.
	EventRoomTaken = "RoomTaken"
	// EventReclaimPending is recorded on the waiting pod while victim farms' hysteresis runs.
	EventReclaimPending = "ReclaimPending"
)

// Reasons of the events farm-scheduler records on Farms, which outlive the pods a reclaim is
// about. ReclaimBlocked and RoomTaken are recorded on the waiting pod's Farm too.
const (
	// EventExecutorsReclaimed is recorded on a farm that lost borrowed executors in a trigger
	// interval: how many, for whom.
	EventExecutorsReclaimed = "ExecutorsReclaimed"
	// EventReclaimedForGuarantee is recorded on a farm executors were reclaimed for in a trigger
	// interval: how many, from whom.
	EventReclaimedForGuarantee = "ReclaimedForGuarantee"
)
