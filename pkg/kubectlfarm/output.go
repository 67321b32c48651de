package kubectlfarm

import (
	"encoding/json"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"
)

// printData prints v as JSON or YAML, for commands whose output is no API object (PrintFlags
// prints those).
func printData(out io.Writer, format string, v any) error {
	var data []byte
	var err error
	switch format {
	case "json":
		if data, err = json.MarshalIndent(v, "", "  "); err == nil {
			data = append(data, '\n')
		}
	case "yaml":
		data, err = yaml.Marshal(v)
	default:
		return fmt.Errorf("invalid -o/--output %q: want json or yaml, or nothing", format)
	}
	if err != nil {
		return err
	}
	_, err = out.Write(data)
	return err
}
