// Package validation checks the Farm plugin's arguments; errors name the offending field.
package validation

import (
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/toinfn/farm/pkg/apis/config"
)

// MaxTriggerInterval bounds TriggerInterval: a longer one would keep a tenant below its guarantee
// for minutes per trigger.
const MaxTriggerInterval = 5 * time.Minute

// ValidateFarmArgs returns an error naming each invalid field of args; path prefixes the field
// names (nil for none).
func ValidateFarmArgs(path *field.Path, args *config.FarmArgs) error {
	var errs field.ErrorList
	if d := args.TriggerInterval.Duration; d <= 0 || d > MaxTriggerInterval {
		errs = append(errs, field.Invalid(path.Child("triggerInterval"), args.TriggerInterval.Duration.String(),
			"must be greater than 0s and at most "+MaxTriggerInterval.String()))
	}
	return errs.ToAggregate()
}
