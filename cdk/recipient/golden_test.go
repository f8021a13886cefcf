package recipient

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// updateGolden rewrites the golden templates: only when CDK itself is
// upgraded on purpose, never to make a change to logfan's stack pass.
var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/*.template.json from the current synth")

// TestTemplatesUnchanged compares the template CDK writes for each variant,
// byte for byte, with the one recorded before regional destination stacks
// existed. Nothing is normalised: the function assets are the placeholder
// binaries of TestMain, whose content (and so whose asset hash) is fixed, and
// the custom resource handler's asset hash is fixed by the pinned aws-cdk-lib.
// A difference here means every existing deployment would see a change set.
func TestTemplatesUnchanged(t *testing.T) {
	variants := map[string]func(*testing.T) *synthesized{"no-senders": noSendersStack}
	for name, v := range allVariants {
		variants[name] = v
	}
	for name, variant := range variants {
		t.Run(name, func(t *testing.T) {
			// GIVEN the variant synthesized with no destinationRegions
			s := variant(t)
			got, err := os.ReadFile(filepath.Join(s.outdir, s.settings.StackName+".template.json"))
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".template.json")
			if *updateGolden {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			// THEN the written template is byte for byte the recorded one
			if !bytes.Equal(got, want) {
				t.Errorf("template %s differs from %s (%d vs %d bytes): the stack would change for existing deployments", name, golden, len(got), len(want))
			}
		})
	}
}
