package invoke

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Template is the part of a synthesized CloudFormation template that
// `logfan invoke` reads, as `sam local invoke -t` does.
type Template struct {
	// Path is the template file; asset paths are relative to its folder.
	Path string
	// StackName names the stack (the file name without .template.json); it
	// prefixes the local names of the stack's own resources.
	StackName string
	// Region and Account stand in for the AWS::Region and AWS::AccountId pseudo parameters.
	Region, Account string

	Resources  map[string]Resource `json:"Resources"`
	Parameters map[string]struct {
		Default any `json:"Default"`
	} `json:"Parameters"`
}

// Resource is one template resource.
type Resource struct {
	Type       string          `json:"Type"`
	Properties json.RawMessage `json:"Properties"`
	Metadata   map[string]any  `json:"Metadata"`
}

// Function is what invoke needs of one AWS::Lambda::Function.
type Function struct {
	// LogicalID is the function's logical ID (e.g. S3Function).
	LogicalID string
	// Env is the function's environment as written in the template: values
	// are strings or CloudFormation intrinsics (see Template.ResolveEnv).
	Env map[string]any
	// MemoryMB and TimeoutSeconds are the function's settings (Lambda's
	// defaults, 128 MB and 3 s, when the template leaves them out).
	MemoryMB, TimeoutSeconds int
	// Architecture is arm64 or x86_64.
	Architecture string
	// AssetDir is the absolute path of the function's code asset.
	AssetDir string
}

// LoadTemplate reads a synthesized template.
func LoadTemplate(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := &Template{Path: path, StackName: strings.TrimSuffix(filepath.Base(path), ".template.json"), Region: "us-east-1", Account: "123456789012"}
	if err := json.Unmarshal(b, t); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return t, nil
}

// Functions lists the template's function logical IDs, sorted.
func (t *Template) Functions() []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == "AWS::Lambda::Function" {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Function returns the function with logical ID id.
func (t *Template) Function(id string) (*Function, error) {
	r, ok := t.Resources[id]
	if !ok || r.Type != "AWS::Lambda::Function" {
		return nil, fmt.Errorf("%s has no function %q (functions: %s)", t.Path, id, strings.Join(t.Functions(), ", "))
	}
	var p struct {
		Environment struct {
			Variables map[string]any `json:"Variables"`
		} `json:"Environment"`
		MemorySize    *int     `json:"MemorySize"`
		Timeout       *int     `json:"Timeout"`
		Architectures []string `json:"Architectures"`
	}
	if err := json.Unmarshal(r.Properties, &p); err != nil {
		return nil, fmt.Errorf("function %s: %w", id, err)
	}
	f := &Function{LogicalID: id, Env: p.Environment.Variables, MemoryMB: 128, TimeoutSeconds: 3, Architecture: "x86_64"}
	if f.Env == nil {
		f.Env = map[string]any{}
	}
	if p.MemorySize != nil {
		f.MemoryMB = *p.MemorySize
	}
	if p.Timeout != nil {
		f.TimeoutSeconds = *p.Timeout
	}
	if len(p.Architectures) > 0 {
		f.Architecture = p.Architectures[0]
	}
	// CDK records where it staged the code (aws:asset:path, relative to the
	// template) because the Code property itself names an S3 object.
	if rel, _ := r.Metadata["aws:asset:path"].(string); rel != "" {
		f.AssetDir = rel
		if !filepath.IsAbs(rel) {
			f.AssetDir = filepath.Join(filepath.Dir(t.Path), rel)
		}
		if abs, err := filepath.Abs(f.AssetDir); err == nil {
			f.AssetDir = abs
		}
	}
	return f, nil
}

// PhysicalName is the local name of the stack's own resource id: its
// explicit name property when it has one, otherwise stack and logical ID
// in lower case, as CloudFormation composes names (without the random suffix).
func (t *Template) PhysicalName(id string) (string, error) {
	r, ok := t.Resources[id]
	if !ok {
		return "", fmt.Errorf("no resource %q in %s", id, t.Path)
	}
	var named map[string]any
	_ = json.Unmarshal(r.Properties, &named)
	for _, k := range []string{"BucketName", "DeliveryStreamName", "Name", "FunctionName"} {
		if s, ok := named[k].(string); ok && s != "" {
			return s, nil
		}
	}
	name := strings.ToLower(t.StackName + "-" + id)
	if len(name) > 63 { // S3's bucket name limit, the tightest of the three
		name = name[:63]
	}
	return name, nil
}

// arn is the ARN of the stack's own resource id, for Fn::GetAtt [id, Arn].
func (t *Template) arn(id string) (string, error) {
	name, err := t.PhysicalName(id)
	if err != nil {
		return "", err
	}
	switch typ := t.Resources[id].Type; typ {
	case "AWS::S3::Bucket":
		return "arn:aws:s3:::" + name, nil
	case "AWS::Kinesis::Stream":
		return "arn:aws:kinesis:" + t.Region + ":" + t.Account + ":stream/" + name, nil
	case "AWS::KinesisFirehose::DeliveryStream":
		return "arn:aws:firehose:" + t.Region + ":" + t.Account + ":deliverystream/" + name, nil
	default:
		return "", fmt.Errorf("Fn::GetAtt %s.Arn: resource type %s is not supported locally", id, typ)
	}
}

// Resolve evaluates v, a template value: strings pass through; Ref (to a
// resource, parameter or pseudo parameter), Fn::GetAtt (Arn) and Fn::Join
// resolve to local names; refs collects the stack resources named.
func (t *Template) Resolve(v any, refs map[string]string) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	case map[string]any:
		if len(x) != 1 {
			break
		}
		if ref, ok := x["Ref"].(string); ok {
			return t.ref(ref, refs)
		}
		if ga, ok := x["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
			id, _ := ga[0].(string)
			if attr, _ := ga[1].(string); attr == "Arn" {
				s, err := t.arn(id)
				if err == nil {
					refs[id] = t.Resources[id].Type
				}
				return s, err
			}
		}
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			sep, _ := j[0].(string)
			parts, _ := j[1].([]any)
			out := make([]string, len(parts))
			for i, p := range parts {
				s, err := t.Resolve(p, refs)
				if err != nil {
					return "", err
				}
				out[i] = s
			}
			return strings.Join(out, sep), nil
		}
	}
	b, _ := json.Marshal(v)
	return "", fmt.Errorf("cannot resolve %s locally (override it with --env-vars)", b)
}

func (t *Template) ref(id string, refs map[string]string) (string, error) {
	switch id {
	case "AWS::Region":
		return t.Region, nil
	case "AWS::AccountId":
		return t.Account, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		return t.StackName, nil
	}
	if p, ok := t.Parameters[id]; ok {
		return t.Resolve(p.Default, refs)
	}
	name, err := t.PhysicalName(id)
	if err == nil {
		refs[id] = t.Resources[id].Type
	}
	return name, err
}

// ResolveEnv returns f's environment with every intrinsic resolved, minus
// the variables overrides sets (SAM's --env-vars wins over the template),
// plus overrides; refs maps each stack resource the environment names to
// its type, so the caller can create it on an emulator.
func (t *Template) ResolveEnv(f *Function, overrides map[string]string) (env map[string]string, refs map[string]string, err error) {
	env, refs = map[string]string{}, map[string]string{}
	for k, v := range f.Env {
		if _, ok := overrides[k]; ok {
			continue
		}
		s, err := t.Resolve(v, refs)
		if err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", f.LogicalID, k, err)
		}
		if _, literal := v.(string); literal {
			// A name the stack fixed at synth time (the Firehose stream
			// its delivery role trusts by ARN) stands for its resource, as a Ref would.
			if id := t.fixedNameOf(s); id != "" {
				refs[id] = t.Resources[id].Type
			}
		}
		env[k] = s
	}
	for k, v := range overrides {
		env[k] = v
	}
	return env, refs, nil
}

// fixedNameOf is the logical ID of the resource whose literal name is s, or "".
func (t *Template) fixedNameOf(s string) string {
	for id, r := range t.Resources {
		var named map[string]any
		_ = json.Unmarshal(r.Properties, &named)
		for _, k := range []string{"BucketName", "DeliveryStreamName", "Name", "TableName"} {
			if n, ok := named[k].(string); ok && n == s {
				return id
			}
		}
	}
	return ""
}

// LoadEnvVars reads a SAM --env-vars file: {"Parameters": {...}} applies to
// every function, {"<LogicalID>": {...}} to one, and wins over Parameters.
func LoadEnvVars(path, logicalID string) (map[string]string, error) {
	if path == "" {
		return map[string]string{}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc map[string]map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: want SAM's format {\"%s\": {\"VAR\": \"value\"}, \"Parameters\": {...}}: %w", path, logicalID, err)
	}
	out := map[string]string{}
	for _, section := range []string{"Parameters", logicalID} {
		for k, v := range doc[section] {
			switch x := v.(type) {
			case string:
				out[k] = x
			case float64:
				out[k] = strconv.FormatFloat(x, 'f', -1, 64)
			case bool:
				out[k] = strconv.FormatBool(x)
			default:
				return nil, fmt.Errorf("%s: %s.%s: want a string, number or boolean", path, section, k)
			}
		}
	}
	return out, nil
}
