package tenant

import (
	"bytes"
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"text/template"

	"github.com/toinfn/farm/pkg/quota"
)

// SparkPodTemplateFile is the executor pod template the Spark settings refer to, as shipped in
// the examples (manifests/examples/spark).
const SparkPodTemplateFile = "executor-pod-template.yaml"

// sparkRoleLabel is the label Spark puts on its pods itself (spark-role=executor on executors)
// and refuses as a custom executor label.
const sparkRoleLabel = "spark-role"

//go:embed spark-defaults.conf.tmpl
var sparkDefaultsText string

var sparkDefaultsTemplate = template.Must(template.New("spark-defaults.conf").Parse(sparkDefaultsText))

// SparkDefaults is the tenant's spark-defaults.conf: its namespace and service account,
// farm-scheduler, the executor label its Farm selects, the driver Service tenant add creates
// and graceful decommissioning. s must be defaulted and valid. The example in
// manifests/examples/spark is this for tenant alice.
func SparkDefaults(s Spec) ([]byte, error) {
	if s.LabelKey == sparkRoleLabel && s.LabelValue != "executor" {
		return nil, fmt.Errorf("the Farm selects %s=%s, but Spark labels its executors %s=executor and allows no other value", s.LabelKey, s.LabelValue, sparkRoleLabel)
	}
	driver := make([]string, 0, len(s.DriverSelector))
	for k, v := range s.DriverSelector {
		driver = append(driver, k+"="+v)
	}
	sort.Strings(driver)
	var out bytes.Buffer
	err := sparkDefaultsTemplate.Execute(&out, map[string]any{
		"Name":                 s.Name,
		"Namespace":            s.Namespace,
		"FarmName":             s.FarmName,
		"LabelKey":             s.LabelKey,
		"LabelValue":           s.LabelValue,
		"SparkLabelsExecutors": s.LabelKey == sparkRoleLabel,
		"SchedulerName":        quota.SchedulerName,
		"PodTemplateFile":      SparkPodTemplateFile,
		"DriverLabels":         strings.Join(driver, ","),
		"DriverService":        DriverServiceName,
		"DriverPort":           DriverPort,
		"BlockManagerPort":     BlockManagerPort,
	})
	if err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
