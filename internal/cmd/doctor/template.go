package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/logfan/logfan/internal/ops/naming"
)

// mappingSettings are an event source mapping's settings the stack sets as
// literals, by CloudFormation property name.
type mappingSettings map[string]any

// templateMappings reads, from a stack's template, the literal settings of
// the event source mapping of each function, by the function's logical ID.
func templateMappings(body string) (map[string]mappingSettings, error) {
	var tpl struct {
		Resources map[string]struct {
			Type       string         `json:"Type"`
			Properties map[string]any `json:"Properties"`
		} `json:"Resources"`
	}
	if err := json.Unmarshal([]byte(body), &tpl); err != nil {
		return nil, fmt.Errorf("the template is not JSON: %w", err)
	}
	out := map[string]mappingSettings{}
	for _, r := range tpl.Resources {
		if r.Type != "AWS::Lambda::EventSourceMapping" {
			continue
		}
		ref, ok := r.Properties["FunctionName"].(map[string]any)
		if !ok {
			continue
		}
		fn, _ := ref["Ref"].(string)
		s := mappingSettings{}
		for _, k := range []string{"BatchSize", "MaximumBatchingWindowInSeconds", "ParallelizationFactor", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "BisectBatchOnFunctionError", "StartingPosition"} {
			if v, ok := r.Properties[k]; ok {
				s[k] = v
			}
		}
		out[fn] = s
	}
	return out, nil
}

// drift lists how m differs from the settings the template gives it.
func (want mappingSettings) drift(m *lambdatypes.EventSourceMappingConfiguration) []string {
	got := map[string]any{
		"BatchSize":                      float64(aws.ToInt32(m.BatchSize)),
		"MaximumBatchingWindowInSeconds": float64(aws.ToInt32(m.MaximumBatchingWindowInSeconds)),
		"ParallelizationFactor":          float64(aws.ToInt32(m.ParallelizationFactor)),
		"MaximumRetryAttempts":           float64(aws.ToInt32(m.MaximumRetryAttempts)),
		"MaximumRecordAgeInSeconds":      float64(aws.ToInt32(m.MaximumRecordAgeInSeconds)),
		"BisectBatchOnFunctionError":     aws.ToBool(m.BisectBatchOnFunctionError),
		"StartingPosition":               string(m.StartingPosition),
	}
	var out []string
	for k, v := range want {
		if fmt.Sprint(v) != fmt.Sprint(got[k]) {
			out = append(out, fmt.Sprintf("%s %v (the stack sets %v)", k, got[k], v))
		}
	}
	sort.Strings(out)
	return out
}

// stackMappings reads the deployed template's mapping settings by sink
// (nil when the template has none: a stack registered on an emulator).
func (r *recipient) stackMappings(ctx context.Context) map[string]mappingSettings {
	out, err := cloudformation.NewFromConfig(r.d.Config).GetTemplate(ctx, &cloudformation.GetTemplateInput{
		StackName: aws.String(r.d.Stack), TemplateStage: cftypes.TemplateStageProcessed,
	})
	if err != nil {
		return nil
	}
	byFunction, err := templateMappings(aws.ToString(out.TemplateBody))
	if err != nil {
		return nil
	}
	bySink := map[string]mappingSettings{}
	for _, sink := range r.d.Sinks() {
		if s, ok := byFunction[naming.FunctionLogicalID(sink)]; ok {
			bySink[sink] = s
		}
	}
	return bySink
}
