// Package deployed registers on a local emulator what a deployed recipient
// stack shows the operator commands (internal/ops/deployment, `logfan
// doctor`): a CloudFormation stack with the recipient stack's name,
// parameters and outputs; the consumer functions and the watchdog
// registered through the Lambda API with their environments; and each
// consumer's event source mapping on the stream, set as the stack sets it.
//
// The functions never run there (moto would need Docker; the demo runs the
// real handlers in process): the registration is what lets the operator
// commands take the same code path on the emulator as on AWS.
package deployed

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// Function is one function to register.
type Function struct {
	// Key is the function's key in Stack.Functions' outputs (a sink, or "watchdog").
	Key string
	// Name is the function's name; Output the stack output naming it.
	Name, Output string
	// Env is its environment, as the stack sets it.
	Env map[string]string
	// Mapping, when true, gives the function an event source mapping on Stack.StreamARN.
	Mapping bool
}

// Mapping is the event source mappings' configuration (the recipient
// stack's context keys batchSize, batchWindowSeconds, retryAttempts,
// maxRecordAgeSeconds, parallelizationFactor, startingPosition).
type Mapping struct {
	BatchSize, BatchWindowSeconds, RetryAttempts, MaxRecordAgeSeconds, ParallelizationFactor int
	StartingPosition                                                                         string
}

// Stack is what to register.
type Stack struct {
	// Name is the stack's name (naming.RecipientStack, or a test's).
	Name string
	// Parameters are the stack's parameters (SenderAccounts, ...) with their values.
	Parameters map[string]string
	// Outputs are the stack's outputs; the functions' Output entries are added.
	Outputs map[string]string
	// Functions are registered with the Lambda API.
	Functions []Function
	// StreamARN is the mappings' event source; OnFailureBucket their S3 on-failure destination.
	StreamARN, OnFailureBucket string
	// Mapping configures every mapping.
	Mapping Mapping
}

// Registered is what Register created or found.
type Registered struct {
	// StackID is the stack's ARN.
	StackID string
	// FunctionARNs and MappingUUIDs are by Function.Key.
	FunctionARNs, MappingUUIDs map[string]string
}

// Clients are the SDK clients Register uses.
type Clients struct {
	CloudFormation *cloudformation.Client
	Lambda         *lambda.Client
	IAM            *iam.Client
}

// NewClients builds the clients from cfg.
func NewClients(cfg aws.Config) Clients {
	return Clients{CloudFormation: cloudformation.NewFromConfig(cfg), Lambda: lambda.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg)}
}

// Register creates s, or brings an earlier registration up to date (a
// demo run again on the same emulator): functions' environments are
// replaced, existing mappings kept, the stack's template updated.
func Register(ctx context.Context, c Clients, s Stack) (*Registered, error) {
	reg := &Registered{FunctionARNs: map[string]string{}, MappingUUIDs: map[string]string{}}
	outputs := map[string]string{}
	for k, v := range s.Outputs {
		outputs[k] = v
	}
	for _, f := range s.Functions {
		arn, err := registerFunction(ctx, c, f)
		if err != nil {
			return nil, err
		}
		reg.FunctionARNs[f.Key] = arn
		if f.Output != "" {
			outputs[f.Output] = f.Name
		}
		if !f.Mapping {
			continue
		}
		uuid, err := registerMapping(ctx, c.Lambda, s, f)
		if err != nil {
			return nil, err
		}
		reg.MappingUUIDs[f.Key] = uuid
	}
	id, err := registerStack(ctx, c.CloudFormation, s.Name, s.Parameters, outputs)
	if err != nil {
		return nil, err
	}
	reg.StackID = id
	return reg, nil
}

// code is the functions' deployment package: a placeholder, never run.
func code() []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, _ := z.Create("bootstrap")
	_, _ = w.Write([]byte("#!/bin/sh\necho 'registered by logfan on an emulator: the handler runs in process' >&2\nexit 1\n"))
	_ = z.Close()
	return b.Bytes()
}

func registerFunction(ctx context.Context, c Clients, f Function) (string, error) {
	roleARN, err := role(ctx, c.IAM, f.Name)
	if err != nil {
		return "", err
	}
	env := &lambdatypes.Environment{Variables: f.Env}
	out, err := c.Lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName:  aws.String(f.Name),
		Runtime:       lambdatypes.RuntimeProvidedal2023,
		Architectures: []lambdatypes.Architecture{lambdatypes.ArchitectureArm64},
		Handler:       aws.String("bootstrap"),
		Role:          aws.String(roleARN),
		Code:          &lambdatypes.FunctionCode{ZipFile: code()},
		Environment:   env,
		Description:   aws.String("logfan " + f.Key + ": registered on the emulator for the operator commands"),
	})
	if err == nil {
		return aws.ToString(out.FunctionArn), nil
	}
	if !exists(err) {
		return "", fmt.Errorf("register function %s: %w", f.Name, err)
	}
	up, err := c.Lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String(f.Name), Environment: env})
	if err != nil {
		return "", fmt.Errorf("update function %s: %w", f.Name, err)
	}
	return aws.ToString(up.FunctionArn), nil
}

// role creates (or finds) the function's execution role.
func role(ctx context.Context, c *iam.Client, name string) (string, error) {
	trust, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
	}}})
	out, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(string(trust))})
	if err == nil {
		return aws.ToString(out.Role.Arn), nil
	}
	if !exists(err) {
		return "", fmt.Errorf("create role %s: %w", name, err)
	}
	got, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("get role %s: %w", name, err)
	}
	return aws.ToString(got.Role.Arn), nil
}

func registerMapping(ctx context.Context, c *lambda.Client, s Stack, f Function) (string, error) {
	list, err := c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(f.Name), EventSourceArn: aws.String(s.StreamARN)})
	if err != nil {
		return "", fmt.Errorf("list the mappings of %s: %w", f.Name, err)
	}
	for _, m := range list.EventSourceMappings {
		if aws.ToString(m.EventSourceArn) == s.StreamARN {
			return aws.ToString(m.UUID), nil
		}
	}
	m := s.Mapping
	out, err := c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName:                   aws.String(f.Name),
		EventSourceArn:                 aws.String(s.StreamARN),
		StartingPosition:               lambdatypes.EventSourcePosition(m.StartingPosition),
		BatchSize:                      aws.Int32(int32(m.BatchSize)),
		MaximumBatchingWindowInSeconds: aws.Int32(int32(m.BatchWindowSeconds)),
		ParallelizationFactor:          aws.Int32(int32(m.ParallelizationFactor)),
		BisectBatchOnFunctionError:     aws.Bool(true),
		MaximumRetryAttempts:           aws.Int32(int32(m.RetryAttempts)),
		MaximumRecordAgeInSeconds:      aws.Int32(int32(m.MaxRecordAgeSeconds)),
		FunctionResponseTypes:          []lambdatypes.FunctionResponseType{lambdatypes.FunctionResponseTypeReportBatchItemFailures},
		DestinationConfig: &lambdatypes.DestinationConfig{OnFailure: &lambdatypes.OnFailure{
			Destination: aws.String("arn:aws:s3:::" + s.OnFailureBucket),
		}},
	})
	if err != nil {
		return "", fmt.Errorf("map %s to %s: %w", f.Name, s.StreamARN, err)
	}
	return aws.ToString(out.UUID), nil
}

// registerStack creates or updates a stack whose template holds the
// parameters (their values as defaults) and the outputs, with one
// resource that creates nothing: CloudFormation requires one.
func registerStack(ctx context.Context, c *cloudformation.Client, name string, params, outputs map[string]string) (string, error) {
	tpl := map[string]any{
		"Description": "logfan recipient, as registered on an emulator for the operator commands",
		"Resources":   map[string]any{"Placeholder": map[string]any{"Type": "AWS::CloudFormation::WaitConditionHandle"}},
	}
	if len(params) > 0 {
		p := map[string]any{}
		for k, v := range params {
			p[k] = map[string]any{"Type": "String", "Default": v}
		}
		tpl["Parameters"] = p
	}
	o := map[string]any{}
	for _, k := range sortedKeys(outputs) {
		o[k] = map[string]any{"Value": outputs[k]}
	}
	tpl["Outputs"] = o
	body, err := json.Marshal(tpl)
	if err != nil {
		return "", err
	}
	created, err := c.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(string(body))})
	if err == nil {
		return aws.ToString(created.StackId), nil
	}
	if !exists(err) {
		return "", fmt.Errorf("register stack %s: %w", name, err)
	}
	updated, err := c.UpdateStack(ctx, &cloudformation.UpdateStackInput{StackName: aws.String(name), TemplateBody: aws.String(string(body))})
	if err != nil && !strings.Contains(err.Error(), "No updates are to be performed") {
		return "", fmt.Errorf("update stack %s: %w", name, err)
	}
	if updated != nil {
		return aws.ToString(updated.StackId), nil
	}
	return name, nil
}

// exists reports the errors that mean "registered before".
func exists(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "ResourceConflictException", "EntityAlreadyExists", "AlreadyExistsException":
		return true
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
