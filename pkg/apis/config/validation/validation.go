// Package validation checks the Farm plugin's arguments; errors name the offending field.
package validation

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/toinfn/farm/pkg/apis/config"
)

// MaxTriggerInterval bounds TriggerInterval: a longer one would keep a tenant below its guarantee
// for minutes per trigger.
const MaxTriggerInterval = 5 * time.Minute

// MaxReclaimingDrivers bounds MaxReclaimingDrivers: drivers beyond a few per farm would be
// borrowing, not starting a guarantee.
const MaxReclaimingDrivers = 10

// MaxMinimumRuntime bounds MinimumRuntime: longer, a guarantee could wait a day for victims.
const MaxMinimumRuntime = 24 * time.Hour

// MaxThrashingWindow and MaxBorrowCooldown bound the thrashing window and the cool-down: a day.
const (
	MaxThrashingWindow = 24 * time.Hour
	MaxBorrowCooldown  = 24 * time.Hour
)

// ValidateFarmArgs returns an error naming each invalid field of args; path prefixes the field
// names (nil for none).
func ValidateFarmArgs(path *field.Path, args *config.FarmArgs) error {
	var errs field.ErrorList
	if d := args.TriggerInterval.Duration; d <= 0 || d > MaxTriggerInterval {
		errs = append(errs, field.Invalid(path.Child("triggerInterval"), args.TriggerInterval.Duration.String(),
			"must be greater than 0s and at most "+MaxTriggerInterval.String()))
	}
	for i, d := range args.Drivers {
		p := path.Child("drivers").Index(i)
		for _, msg := range validation.IsQualifiedName(d.LabelKey) {
			errs = append(errs, field.Invalid(p.Child("labelKey"), d.LabelKey, msg))
		}
		for _, msg := range validation.IsValidLabelValue(d.LabelValue) {
			errs = append(errs, field.Invalid(p.Child("labelValue"), d.LabelValue, msg))
		}
	}
	if n := args.MaxReclaimingDrivers; n < 0 || n > MaxReclaimingDrivers {
		errs = append(errs, field.Invalid(path.Child("maxReclaimingDrivers"), n, fmt.Sprintf("must be between 0 and %d", MaxReclaimingDrivers)))
	}
	if d := args.MinimumRuntime.Duration; d < 0 || d > MaxMinimumRuntime {
		errs = append(errs, field.Invalid(path.Child("minimumRuntime"), d.String(), "must be between 0s and "+MaxMinimumRuntime.String()))
	}
	if n := args.ThrashingReclaims; n < 0 {
		errs = append(errs, field.Invalid(path.Child("thrashingReclaims"), n, "must be 0 (off) or more"))
	}
	if d := args.ThrashingWindow.Duration; args.ThrashingReclaims > 0 && (d <= 0 || d > MaxThrashingWindow) {
		errs = append(errs, field.Invalid(path.Child("thrashingWindow"), d.String(), "must be greater than 0s and at most "+MaxThrashingWindow.String()))
	}
	if d := args.BorrowCooldown.Duration; d < 0 || d > MaxBorrowCooldown {
		errs = append(errs, field.Invalid(path.Child("borrowCooldown"), d.String(), "must be between 0s and "+MaxBorrowCooldown.String()))
	}
	return errs.ToAggregate()
}
