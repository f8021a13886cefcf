package recipient

import (
	"fmt"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/shared/config"
)

func TestLedgerTable(t *testing.T) {
	// GIVEN the default context (dedupe on)
	s := defaultStack(t)
	id := s.refTo(t, "LedgerTable")["Ref"].(string)
	// (the health table's grants: TestHealthWriterIsOneConsumer)
	health := fmt.Sprint(map[string]any{"Fn::GetAtt": []any{s.healthTableID(t), "Arn"}})
	// THEN the table is on-demand, encrypted, expires entries by TTL and has PITR on
	s.template.HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{"Properties": map[string]any{
		"KeySchema":                        []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}},
		"BillingMode":                      "PAY_PER_REQUEST",
		"SSESpecification":                 map[string]any{"SSEEnabled": true},
		"TimeToLiveSpecification":          map[string]any{"AttributeName": "expires", "Enabled": true},
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
	}})
	for _, sink := range s.settings.EnabledSinks() {
		fn := s.function(t, sink)
		env := props(fn)["Environment"].(map[string]any)["Variables"].(map[string]any)
		// AND each function names it and keeps entries for the stream's retention
		if fmt.Sprint(env[config.EnvLedgerTable]) != fmt.Sprint(map[string]any{"Ref": id}) || env[config.EnvLedgerTTL] != "24h0m0s" {
			t.Errorf("%s: ledger environment %v, %v", sink, env[config.EnvLedgerTable], env[config.EnvLedgerTTL])
		}
		// AND may make exactly the ledger's three calls, on that table only
		var actions []string
		for _, st := range s.policyStatementsOf(roleOf(t, fn)) {
			if fmt.Sprint(st["Resource"]) == health {
				continue
			}
			if fmt.Sprint(st["Resource"]) == fmt.Sprint(map[string]any{"Fn::GetAtt": []any{id, "Arn"}}) {
				actions = append(actions, fmt.Sprint(st["Action"]))
			} else if fmt.Sprint(st["Action"]) != "" && containsDynamo(st["Action"]) {
				t.Errorf("%s: DynamoDB actions on %v", sink, st["Resource"])
			}
		}
		if fmt.Sprint(actions) != "[[dynamodb:DeleteItem dynamodb:GetItem dynamodb:PutItem]]" {
			t.Errorf("%s: actions on the ledger table %v", sink, actions)
		}
	}
}

func TestLedgerOff(t *testing.T) {
	// GIVEN dedupe=false
	s := synth(t, "dedupe-off", map[string]any{CtxDedupe: false})
	// THEN there is no ledger table (the health table only) and no function names one
	s.template.ResourceCountIs(jsii.String("AWS::DynamoDB::Table"), jsii.Number(1))
	s.healthTableID(t)
	for _, sink := range s.settings.EnabledSinks() {
		env := props(s.function(t, sink))["Environment"].(map[string]any)["Variables"].(map[string]any)
		if _, ok := env[config.EnvLedgerTable]; ok {
			t.Errorf("%s: %s set with dedupe=false", sink, config.EnvLedgerTable)
		}
	}
}

func containsDynamo(a any) bool {
	switch v := a.(type) {
	case string:
		return len(v) > 9 && v[:9] == "dynamodb:"
	case []any:
		for _, x := range v {
			if containsDynamo(x) {
				return true
			}
		}
	}
	return false
}
