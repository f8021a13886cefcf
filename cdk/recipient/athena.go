package recipient

import (
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/shared/record"
	"github.com/logfan/logfan/shared/s3layout"
)

// Names of the Athena resources. One recipient stack per account and region,
// so fixed names are unique and short to type in queries.
const (
	GlueDatabaseName    = "logfan"
	AthenaWorkGroupName = "logfan"
	// projectionStart is the first day the dt projection covers. A query
	// without a dt predicate enumerates every day from here to NOW (times
	// 24 hours), so it should not be earlier than the oldest object.
	projectionStart = "2020-01-01"
	// athenaResultsDays is how long query results are kept.
	athenaResultsDays = 30
	// exampleLogGroup is the log group the example query names.
	exampleLogGroup = "/aws/lambda/orders"
)

// SerDes and formats of the table, per s3layout format.
const (
	jsonSerDe     = "org.openx.data.jsonserde.JsonSerDe"
	textInput     = "org.apache.hadoop.mapred.TextInputFormat"
	textOutput    = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
	parquetSerDe  = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
	parquetInput  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
	parquetOutput = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
)

// TableName is the Glue table over the objects under an S3 prefix: the
// prefix in lower case with every character Glue does not allow as '_'.
func TableName(prefix string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(prefix) {
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// athena is what newAthena created, for the outputs.
type athena struct {
	table     string
	workGroup string
}

// newAthena creates a Glue database, an external table over the S3 sink's
// objects with partition projection (no crawler, no MSCK REPAIR), and an
// Athena workgroup whose results go, encrypted, to a bucket of their own.
// Nil when the S3 sink or athenaEnabled is off.
func newAthena(r *recipientStack) *athena {
	s := r.s
	if !s.S3.Athena || r.data == nil {
		return nil
	}
	db := awsglue.NewCfnDatabase(r.stack, jsii.String("GlueDatabase"), &awsglue.CfnDatabaseProps{
		CatalogId: jsii.String(s.Account),
		DatabaseInput: &awsglue.CfnDatabase_DatabaseInputProperty{
			Name:        jsii.String(GlueDatabaseName),
			Description: jsii.String("logfan: log events delivered by the S3 sink"),
		},
	})
	table := TableName(s.S3.Prefix)
	t := newGlueTable(r, table)
	t.Node().AddDependency(db) // the table names the database by its literal name
	newAthenaWorkGroup(r, table)
	return &athena{table: table, workGroup: AthenaWorkGroupName}
}

// newGlueTable creates the external table over the S3 sink's objects, in
// the sink's format, its partitions projected.
func newGlueTable(r *recipientStack, table string) awsglue.CfnTable {
	s := r.s
	base := "s3://" + *r.data.BucketName() + "/" + s.S3.Prefix
	serde := &awsglue.CfnTable_SerdeInfoProperty{SerializationLibrary: jsii.String(jsonSerDe), Parameters: map[string]string{"case.insensitive": "true"}}
	input, output := textInput, textOutput
	if s.S3.Format == s3layout.FormatParquet {
		serde = &awsglue.CfnTable_SerdeInfoProperty{SerializationLibrary: jsii.String(parquetSerDe)}
		input, output = parquetInput, parquetOutput
	}
	return awsglue.NewCfnTable(r.stack, jsii.String("GlueTable"), &awsglue.CfnTableProps{
		CatalogId:    jsii.String(s.Account),
		DatabaseName: jsii.String(GlueDatabaseName),
		TableInput: &awsglue.CfnTable_TableInputProperty{
			Name:          jsii.String(table),
			Description:   jsii.String("Log events the S3 sink writes under s3://<data bucket>/" + s.S3.Prefix + "/ (" + s.S3.Format + ")"),
			TableType:     jsii.String("EXTERNAL_TABLE"),
			Parameters:    r.projection(base),
			PartitionKeys: glueColumns(s3layout.PartitionColumns()),
			StorageDescriptor: &awsglue.CfnTable_StorageDescriptorProperty{
				Columns:      glueColumns(s3layout.TableColumns()),
				Location:     jsii.String(base + "/"),
				InputFormat:  jsii.String(input),
				OutputFormat: jsii.String(output),
				SerdeInfo:    serde,
			},
		},
	})
}

// projection is the table's parameters: its classification and the
// partition projection (no crawler, no MSCK REPAIR) of the objects under
// base.
func (r *recipientStack) projection(base string) map[string]any {
	s := r.s
	orgMode := r.senders.orgMode.LogicalId()
	var ownerType, ownerValues any = awscdk.Fn_ConditionIf(orgMode, jsii.String("injected"), jsii.String("enum")),
		awscdk.Fn_ConditionIf(orgMode, awscdk.Aws_NO_VALUE(), r.ownerValues())
	if s.Hub.Enabled() {
		// A hub's events are owned by the source accounts CloudWatch Logs
		// names, which no list at synth holds: queries name the owner.
		ownerType, ownerValues = jsii.String("injected"), awscdk.Aws_NO_VALUE()
	}
	return map[string]any{
		"EXTERNAL":           "TRUE",
		"classification":     map[string]string{s3layout.FormatNDJSON: "json", s3layout.FormatParquet: "parquet"}[s.S3.Format],
		"projection.enabled": "true",
		// Sender accounts are known in account-list mode; in organization
		// mode any member may send, and in hub mode any source account, so
		// queries name the owner.
		"projection." + s3layout.KeyOwner + ".type":         ownerType,
		"projection." + s3layout.KeyOwner + ".values":       ownerValues,
		"projection." + s3layout.KeyLogGroup + ".type":      "injected",
		"projection." + s3layout.KeyDate + ".type":          "date",
		"projection." + s3layout.KeyDate + ".format":        s3layout.DateFormat,
		"projection." + s3layout.KeyDate + ".range":         projectionStart + ",NOW",
		"projection." + s3layout.KeyDate + ".interval":      "1",
		"projection." + s3layout.KeyDate + ".interval.unit": "DAYS",
		"projection." + s3layout.KeyHour + ".type":          "integer",
		"projection." + s3layout.KeyHour + ".range":         "0,23",
		"projection." + s3layout.KeyHour + ".digits":        strconv.Itoa(s3layout.HourDigits),
		"storage.location.template":                         s3layout.LocationTemplate(base),
	}
}

// newAthenaWorkGroup creates the Athena workgroup over table, whose
// results go, encrypted, to a bucket of their own.
func newAthenaWorkGroup(r *recipientStack, table string) {
	results := awss3.NewBucket(r.stack, jsii.String("AthenaResultsBucket"), secureBucketProps(r.accessLogs(), "athena-results/", &awss3.LifecycleRule{
		Id:         jsii.String("expire-query-results"),
		Expiration: awscdk.Duration_Days(jsii.Number(athenaResultsDays)),
	}))
	awsathena.NewCfnWorkGroup(r.stack, jsii.String("AthenaWorkGroup"), &awsathena.CfnWorkGroupProps{
		Name:        jsii.String(AthenaWorkGroupName),
		Description: jsii.String("logfan: queries over the S3 sink's table " + GlueDatabaseName + "." + table),
		State:       jsii.String("ENABLED"),
		WorkGroupConfiguration: &awsathena.CfnWorkGroup_WorkGroupConfigurationProperty{
			// Enforced, so a client cannot send results elsewhere or unencrypted.
			EnforceWorkGroupConfiguration:   jsii.Bool(true),
			PublishCloudWatchMetricsEnabled: jsii.Bool(true),
			EngineVersion: &awsathena.CfnWorkGroup_EngineVersionProperty{
				SelectedEngineVersion: jsii.String("Athena engine version 3"),
			},
			ResultConfiguration: &awsathena.CfnWorkGroup_ResultConfigurationProperty{
				OutputLocation: jsii.String("s3://" + *results.BucketName() + "/"),
				EncryptionConfiguration: &awsathena.CfnWorkGroup_EncryptionConfigurationProperty{
					EncryptionOption: jsii.String("SSE_S3"),
				},
			},
		},
	})
}

// glueColumns converts columns to the CloudFormation property.
func glueColumns(cols []record.Column) *[]*awsglue.CfnTable_ColumnProperty {
	out := make([]*awsglue.CfnTable_ColumnProperty, len(cols))
	for i, c := range cols {
		out[i] = &awsglue.CfnTable_ColumnProperty{Name: jsii.String(c.Name), Type: jsii.String(c.Type)}
	}
	return &out
}

// ownerValues lists the owners of account-list mode: the SenderAccounts
// parameter, then (when sharded) every other shard's accounts.
func (r *recipientStack) ownerValues() *string {
	param := awscdk.Fn_Join(jsii.String(","), r.senders.accountList())
	if !r.s.Senders.Sharded() {
		return param
	}
	return awscdk.Fn_Join(jsii.String(","), &[]*string{param, jsii.String(strings.Join(r.s.Senders.ShardedAccounts(), ","))})
}

// exampleQuery is a query that runs as printed in the workgroup: the newest
// events of one log group today. owner is the first sender account (or, in
// organization mode, the recipient account, a member of the organization),
// because injected projection needs equality on every injected key.
func (r *recipientStack) exampleQuery(a *athena) *string {
	owner := awscdk.Token_AsString(awscdk.Fn_ConditionIf(r.senders.orgMode.LogicalId(),
		jsii.String(r.s.Account), awscdk.Fn_Select(jsii.Number(0), r.senders.accountList())), nil)
	return jsii.String(ExampleQuery(GlueDatabaseName+"."+a.table, *owner, s3layout.PartitionValue(exampleLogGroup)))
}

// ExampleQuery is the AthenaQueryExample output's query over table for one
// owner and escaped log group value.
func ExampleQuery(table, owner, logGroup string) string {
	return `SELECT from_unixtime("timestamp" / 1000) AS time, logstream, message FROM ` + table +
		` WHERE ` + s3layout.KeyOwner + ` = '` + owner + `' AND ` + s3layout.KeyLogGroup + ` = '` + logGroup +
		`' AND ` + s3layout.KeyDate + ` = CAST(current_date AS varchar) ORDER BY "timestamp" DESC LIMIT 100`
}
