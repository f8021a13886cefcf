package sender

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// updateGolden rewrites testdata/*.template.json from the current synth.
var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/*.template.json from the current synth")

// TestTemplatesGolden compares the sender stack's template for each mode
// with the recorded one (keys sorted, indented): a difference is a change
// set for every sender account that deploys it, to be made on purpose.
func TestTemplatesGolden(t *testing.T) {
	for name, kv := range map[string]map[string]any{
		"log-groups":                  {CtxDestinationARN: destEU, CtxLogGroups: "/aws/lambda/orders,/app/api"},
		"organization-account-policy": {CtxDestinationARN: destEU, CtxMode: ModeAccountPolicy, CtxExcludeLogGroups: "/noisy", CtxOrganization: true},
	} {
		t.Run(name, func(t *testing.T) {
			s := synth(t, kv)
			got, err := json.MarshalIndent(s.json, "", " ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", name+".template.json")
			if *updateGolden {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update-golden to record it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("template %s differs from %s: the stack would change for every sender that deploys it", name, golden)
			}
		})
	}
}
