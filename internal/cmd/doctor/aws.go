package doctor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// apiCode is an AWS error's code ("" for other errors).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// notFound reports the errors that mean "does not exist".
func notFound(err error) bool {
	switch apiCode(err) {
	case "ResourceNotFoundException", "NoSuchEntity", "NotFound", "NoSuchBucket", "404", "ValidationError":
		return true
	}
	return strings.Contains(err.Error(), "StatusCode: 404")
}

// object is one S3 object's key and time.
type object struct {
	Key      string
	Modified time.Time
}

// listObjects lists every object under prefix.
func listObjects(ctx context.Context, c *s3.Client, bucket, prefix string) ([]object, error) {
	var out []object
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, object{Key: aws.ToString(o.Key), Modified: aws.ToTime(o.LastModified)})
		}
	}
	return out, nil
}

// newest returns the most recent of objs.
func newest(objs []object) object {
	var n object
	for _, o := range objs {
		if o.Modified.After(n.Modified) {
			n = o
		}
	}
	return n
}

// metric is one CloudWatch statistic over a window.
type metric struct {
	Namespace, Name, Stat string
	Dimensions            map[string]string
}

// statistic returns the metric's statistic over [from, to) in periods of
// period: the maximum of the datapoints (the sum of them for Sum, summed
// over the window), and whether there was any datapoint.
func statistic(ctx context.Context, c *cloudwatch.Client, m metric, from, to time.Time, period time.Duration) (value float64, any bool, err error) {
	var dims []cwtypes.Dimension
	for k, v := range m.Dimensions {
		dims = append(dims, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(v)})
	}
	sort.Slice(dims, func(i, j int) bool { return *dims[i].Name < *dims[j].Name })
	out, err := c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String(m.Namespace), MetricName: aws.String(m.Name), Dimensions: dims,
		StartTime: aws.Time(from), EndTime: aws.Time(to), Period: aws.Int32(int32(period.Seconds())),
		Statistics: []cwtypes.Statistic{cwtypes.Statistic(m.Stat)},
	})
	if err != nil {
		return 0, false, metricsErr(m, err)
	}
	for _, d := range out.Datapoints {
		any = true
		switch m.Stat {
		case "Sum":
			value += aws.ToFloat64(d.Sum)
		case "Maximum":
			value = max(value, aws.ToFloat64(d.Maximum))
		}
	}
	return value, any, nil
}

// peakSum returns the largest one-period Sum of m over the window.
func peakSum(ctx context.Context, c *cloudwatch.Client, m metric, from, to time.Time, period time.Duration) (float64, error) {
	var dims []cwtypes.Dimension
	for k, v := range m.Dimensions {
		dims = append(dims, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(v)})
	}
	out, err := c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String(m.Namespace), MetricName: aws.String(m.Name), Dimensions: dims,
		StartTime: aws.Time(from), EndTime: aws.Time(to), Period: aws.Int32(int32(period.Seconds())),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
	})
	if err != nil {
		return 0, metricsErr(m, err)
	}
	peak := 0.0
	for _, d := range out.Datapoints {
		peak = max(peak, aws.ToFloat64(d.Sum))
	}
	return peak, nil
}

// rolePolicies reads a role's trust policy and every permissions policy
// (inline and attached).
func rolePolicies(ctx context.Context, c *iam.Client, name string) (trust *policy, perms []*policy, err error) {
	role, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	if err != nil {
		return nil, nil, err
	}
	if trust, err = parsePolicy(aws.ToString(role.Role.AssumeRolePolicyDocument)); err != nil {
		return nil, nil, fmt.Errorf("role %s's trust policy: %w", name, err)
	}
	inline := iam.NewListRolePoliciesPaginator(c, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	for inline.HasMorePages() {
		page, err := inline.NextPage(ctx)
		if err != nil {
			return nil, nil, err
		}
		for _, pn := range page.PolicyNames {
			got, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
			if err != nil {
				return nil, nil, err
			}
			p, err := parsePolicy(aws.ToString(got.PolicyDocument))
			if err != nil {
				return nil, nil, fmt.Errorf("role %s's policy %s: %w", name, pn, err)
			}
			perms = append(perms, p)
		}
	}
	attached := iam.NewListAttachedRolePoliciesPaginator(c, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
	for attached.HasMorePages() {
		page, err := attached.NextPage(ctx)
		if err != nil {
			return nil, nil, err
		}
		for _, ap := range page.AttachedPolicies {
			meta, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: ap.PolicyArn})
			if err != nil {
				return nil, nil, err
			}
			v, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: ap.PolicyArn, VersionId: meta.Policy.DefaultVersionId})
			if err != nil {
				return nil, nil, err
			}
			p, err := parsePolicy(aws.ToString(v.PolicyVersion.Document))
			if err != nil {
				return nil, nil, fmt.Errorf("policy %s: %w", aws.ToString(ap.PolicyArn), err)
			}
			perms = append(perms, p)
		}
	}
	return trust, perms, nil
}

// ago says how long before now t was.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return fmt.Sprintf("%s (%s ago)", t.UTC().Format(time.RFC3339), now.Sub(t).Round(time.Second))
}

// bytesText formats a byte count.
func bytesText(n float64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%.0f B", n)
	}
	div, exp := float64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", n/div, "kMGTPE"[exp])
}

// metricsErr says why a metric could not be read; an endpoint that does
// not speak CloudWatch's protocol (an emulator) is said so, briefly.
func metricsErr(m metric, err error) error {
	if strings.Contains(err.Error(), "deserialization failed") {
		return fmt.Errorf("%s/%s: the endpoint's answer is not CloudWatch's (an emulator without GetMetricStatistics)", m.Namespace, m.Name)
	}
	return fmt.Errorf("%s/%s: %w", m.Namespace, m.Name, err)
}
