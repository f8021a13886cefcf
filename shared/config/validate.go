package config

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strings"
	"time"

	"github.com/logfan/logfan/shared/awsregion"
	"github.com/logfan/logfan/shared/routes"
)

// One check per setting, shared by the functions' cold start (Load), the
// stack's synth (cdk/recipient, cdk/sender) and the operator's commands, so
// that a value synth accepts is one the functions accept, and one that
// would fail every batch after deploy fails before it instead.

// Minimums of the durations Load reads.
const (
	// MinAttemptTimeout is the shortest LOGFAN_ATTEMPT_TIMEOUT: one call
	// opens a TLS connection (several round trips) and sends up to a few
	// MB; below a second a healthy call can time out every time, and the
	// batch then retries until the shard gives up.
	MinAttemptTimeout = time.Second
	// MinDeliveryTimeout is the shortest LOGFAN_DELIVERY_TIMEOUT: room for
	// at least one attempt of MinAttemptTimeout.
	MinDeliveryTimeout = MinAttemptTimeout
	// MinLedgerTTL is the shortest LOGFAN_LEDGER_TTL: Kinesis keeps records
	// for at least 24 hours (its minimum retention) and Lambda may redeliver
	// a batch for as long as the stream keeps it; an entry gone before then
	// lets a retry send again what already landed.
	MinLedgerTTL = 24 * time.Hour
	// MinFunctionTimeout is the shortest function timeout (the stack's
	// functionTimeoutSeconds) and invocation deadline (replay's and
	// redrive's -timeout): the consumer keeps 3 s before the deadline to
	// answer and up to 1 s for quarantine writes, which leaves a shorter
	// invocation too little time to deliver a 6 MB batch.
	MinFunctionTimeout = 10 * time.Second
)

var (
	// bucketName is S3's rule for general purpose bucket names.
	bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	// tableName is DynamoDB's rule for table names.
	tableName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)
	// kmsKey is a KMS key ID, key ARN, alias name or alias ARN (what SSE-KMS takes).
	kmsKey = regexp.MustCompile(`^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key/(mrk-)?[0-9a-f-]{32,36}|alias/[A-Za-z0-9/_-]{1,250})|(mrk-)?[0-9a-f-]{32,36}|alias/[A-Za-z0-9/_-]{1,250})$`)
)

// CheckRegion checks an AWS region name (awsregion.Check).
func CheckRegion(region string) error { return awsregion.Check(region) }

// CheckAccount checks a 12-digit AWS account ID.
func CheckAccount(id string) error {
	if len(id) != 12 || strings.Trim(id, "0123456789") != "" {
		return errors.New("want a 12-digit AWS account ID")
	}
	return nil
}

// CheckPrefix checks an S3 key prefix given without leading or trailing
// '/' (routes.CheckPrefix: the route targets' rule).
func CheckPrefix(prefix string) error { return routes.CheckPrefix(prefix) }

// LambdaOnFailurePrefix is where Lambda writes a function's on-failure
// records in the quarantine bucket (aws/lambda/<ESM UUID>/...).
const LambdaOnFailurePrefix = "aws/lambda"

// CheckQuarantinePrefix checks the quarantine's key prefix: an S3 prefix
// outside LambdaOnFailurePrefix, where Lambda writes on-failure records that
// redrive reads apart from the quarantine.
func CheckQuarantinePrefix(prefix string) error {
	if err := CheckPrefix(prefix); err != nil {
		return err
	}
	if prefix == LambdaOnFailurePrefix || strings.HasPrefix(prefix+"/", LambdaOnFailurePrefix+"/") || strings.HasPrefix(LambdaOnFailurePrefix+"/", prefix+"/") {
		return fmt.Errorf("prefix %q overlaps %s/, where Lambda writes on-failure records: choose another", prefix, LambdaOnFailurePrefix)
	}
	return nil
}

// CheckGroupTemplate checks a template of log group names: known
// placeholders only, names CloudWatch Logs can create, and a literal prefix
// before the first placeholder, which scopes the stack's IAM grant
// (without one the grant would cover every log group) and keeps logfan's
// groups apart from everyone else's.
func CheckGroupTemplate(t string) error {
	if err := checkTemplate(t); err != nil {
		return err
	}
	if err := groupTemplateNames(t); err != nil {
		return err
	}
	prefix, _, _ := strings.Cut(t, "{")
	switch {
	case prefix == "":
		return fmt.Errorf("want a literal log group prefix before the first placeholder, such as /logfan/%s (it scopes the IAM grant)", PlaceholderOwner)
	case strings.HasPrefix(strings.ToLower(prefix), "aws/"):
		return errors.New("log group names starting with aws/ are reserved for AWS: choose another prefix")
	case len(prefix) > 512:
		return errors.New("the literal prefix is longer than a log group name (512)")
	}
	return nil
}

// CheckStreamTemplate checks a template of log stream names: known
// placeholders only, and no ':' or '*', which CloudWatch Logs refuses in
// stream names.
func CheckStreamTemplate(t string) error {
	if t == "" {
		return errors.New("want a template such as " + PlaceholderLogStream)
	}
	if err := checkTemplate(t); err != nil {
		return err
	}
	return streamTemplateNames(t)
}

// CheckBucketName checks an S3 general purpose bucket name: 3-63 lowercase
// letters, digits, '.' and '-', starting and ending with a letter or digit,
// no "..", not an IP address.
func CheckBucketName(name string) error {
	_, ipErr := netip.ParseAddr(name)
	if !bucketName.MatchString(name) || strings.Contains(name, "..") || ipErr == nil {
		return fmt.Errorf("%q is not an S3 bucket name (3-63 of a-z 0-9 . -, starting and ending with a letter or digit)", name)
	}
	return nil
}

// CheckStreamName checks a Firehose stream name (routes.IsStreamName).
func CheckStreamName(name string) error {
	if !routes.IsStreamName(name) {
		return fmt.Errorf("%q is not a Firehose stream name (1-64 of a-z A-Z 0-9 _ . -)", name)
	}
	return nil
}

// CheckTableName checks a DynamoDB table name.
func CheckTableName(name string) error {
	if !tableName.MatchString(name) {
		return fmt.Errorf("%q is not a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)", name)
	}
	return nil
}

// CheckKMSKey checks a KMS key given as SSE-KMS takes it: key ID, key ARN,
// alias name or alias ARN.
func CheckKMSKey(key string) error {
	if !kmsKey.MatchString(key) {
		return fmt.Errorf("%q is not a KMS key ID, key ARN, alias/NAME or alias ARN", key)
	}
	return nil
}

// CheckDuration checks a duration setting against its minimum.
func CheckDuration(d, minimum time.Duration) error {
	if d < minimum {
		return fmt.Errorf("%v is below the minimum of %v", d, minimum)
	}
	return nil
}
