package input

import (
	corev1 "k8s.io/api/core/v1"
	policy "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Budgets are the PodDisruptionBudgets a plan's victims may draw on, by index
// (reclaim.Problem.Budgets).
type Budgets struct {
	byNamespace map[string][]budget
	allowed     []int32
}

type budget struct {
	pdb      *policy.PodDisruptionBudget
	selector labels.Selector
	index    int
}

// NewBudgets indexes PodDisruptionBudgets; those with an invalid or empty selector are skipped,
// as upstream preemption skips them.
func NewBudgets(pdbs []*policy.PodDisruptionBudget) *Budgets {
	b := &Budgets{byNamespace: map[string][]budget{}}
	for _, pdb := range pdbs {
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || sel.Empty() {
			continue
		}
		b.byNamespace[pdb.Namespace] = append(b.byNamespace[pdb.Namespace], budget{pdb: pdb, selector: sel, index: len(b.allowed)})
		b.allowed = append(b.allowed, pdb.Status.DisruptionsAllowed)
	}
	return b
}

// Allowed is how many more disruptions each budget allows, by index.
func (b *Budgets) Allowed() []int32 { return b.allowed }

// Covering returns the budgets that cover a pod, or the name of one that allows no disruption
// at all. A pod the budget already counts as disrupted does not draw on it again.
func (b *Budgets) Covering(pod *corev1.Pod) ([]int, string) {
	var out []int
	for _, bud := range b.byNamespace[pod.Namespace] {
		if !bud.selector.Matches(labels.Set(pod.Labels)) {
			continue
		}
		if _, counted := bud.pdb.Status.DisruptedPods[pod.Name]; counted {
			continue
		}
		if b.allowed[bud.index] <= 0 {
			return nil, bud.pdb.Namespace + "/" + bud.pdb.Name
		}
		out = append(out, bud.index)
	}
	return out, ""
}
