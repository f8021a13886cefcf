package recipient

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/logfan/logfan/internal/ops/naming"
	"github.com/logfan/logfan/shared/emf"
)

// The functions publish EMF metrics in this namespace with the dimensions
// sink and owner (the sender account).
const (
	metricsNamespace = "logfan"
	dimSink          = "sink"
	dimOwner         = "owner"
)

// newMonitoring creates the alarm topic, the alarms and the dashboard.
func newMonitoring(r *recipientStack) {
	s := r.s
	topic := newAlarmTopic(r)
	var alarms []interfacesawscloudwatch.IAlarmRef
	alarm := func(id string, metric awscloudwatch.IMetric, threshold float64, periods float64, description string) awscloudwatch.Alarm {
		a := awscloudwatch.NewAlarm(r.stack, jsii.String(id), &awscloudwatch.AlarmProps{
			Metric:             metric,
			Threshold:          jsii.Number(threshold),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			EvaluationPeriods:  jsii.Number(periods),
			DatapointsToAlarm:  jsii.Number(periods),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
			AlarmDescription:   jsii.String(description),
		})
		alarms = append(alarms, a)
		return a
	}
	minute, fiveMinutes := awscdk.Duration_Minutes(jsii.Number(1)), awscdk.Duration_Minutes(jsii.Number(5))
	sum := func(p awscdk.Duration) *awscloudwatch.MetricOptions {
		return &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: p}
	}

	stream := r.stream.stream
	alarm("StreamReadThroughputExceededAlarm", stream.MetricReadProvisionedThroughputExceeded(sum(minute)), 1, 3,
		"Standard consumers read more than a shard's shared 2 MB/s (or 5 GetRecords/s): the sinks starve each other. Enable enhancedFanOut or add shards.")
	alarm("StreamWriteThroughputExceededAlarm", stream.MetricWriteProvisionedThroughputExceeded(sum(minute)), 1, 3,
		"CloudWatch Logs' writes to the stream are throttled: senders' deliveries are delayed and, after 24 hours of retries, dropped. Add shards or use on-demand mode.")

	for _, c := range r.functions {
		fn, title := c.function, naming.SinkID(c.sink)
		alarm(title+"IteratorAgeAlarm", fn.Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: minute}),
			float64(s.Alarms.IteratorAgeSeconds*1000), 5,
			fmt.Sprintf("The %s consumer is more than %d s behind the stream; records older than %d s go to the on-failure destination.", c.sink, s.Alarms.IteratorAgeSeconds, s.Consumer.MaxRecordAgeSeconds))
		alarm(title+"ErrorsAlarm", fn.MetricErrors(sum(fiveMinutes)), 1, 1,
			fmt.Sprintf("The %s consumer failed whole invocations (crash, timeout or configuration error).", c.sink))
		alarm(title+"OnFailureDeliveryFailuresAlarm", fn.Metric(jsii.String("DestinationDeliveryFailures"), sum(fiveMinutes)), 1, 1,
			fmt.Sprintf("Lambda could not write failed %s batches to the quarantine bucket: those records are lost.", c.sink))
	}
	onFailure := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:  jsii.String("AWS/S3"),
		MetricName: jsii.String("PutRequests"),
		DimensionsMap: &map[string]*string{
			"BucketName": r.quarantine.BucketName(),
			"FilterId":   jsii.String(quarantineMetricsFilter),
		},
		Statistic: jsii.String("Sum"),
		Period:    fiveMinutes,
	})
	alarm("OnFailureRecordsAlarm", onFailure, 1, 1,
		"Failed batches (on-failure destination) or quarantined items were written to the quarantine bucket: inspect and replay them.")

	// Missing data breaches: a watchdog that stopped running (or cannot
	// read the table) must alarm as loudly as a silent sender.
	alarms = append(alarms, awscloudwatch.NewAlarm(r.stack, jsii.String("SilentSendersAlarm"), &awscloudwatch.AlarmProps{
		Metric:             watchdogMetric(MetricSilentSenders),
		Threshold:          jsii.Number(0),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1),
		DatapointsToAlarm:  jsii.Number(1),
		TreatMissingData:   awscloudwatch.TreatMissingData_BREACHING,
		AlarmDescription: jsii.String(fmt.Sprintf("An expected sender (account and region) sent no heartbeat for %d minutes, or the watchdog reported nothing: its logs name the senders (`logfan senders` lists them).",
			s.Health.SilentAfterMinutes)),
	}))

	// Every alarm of the stack, those above and any added elsewhere,
	// notifies the topic.
	awscdk.Aspects_Of(r.stack).Add(&alarmActions{topic: topic}, &awscdk.AspectOptions{Priority: awscdk.AspectPriority_MUTATING()})
	newDashboard(r, alarms)
}

// watchdogMetric is one of the watchdog's counts: namespace logfan, no
// dimensions, the maximum over the watchdog's run interval.
func watchdogMetric(name string) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:  jsii.String(metricsNamespace),
		MetricName: jsii.String(name),
		Statistic:  jsii.String("Maximum"),
		Period:     awscdk.Duration_Minutes(jsii.Number(WatchdogMinutes)),
	})
}

// newAlarmTopic imports alarmTopicArn, or creates the topic every alarm
// notifies: encrypted with a customer key of its own, since CloudWatch
// cannot publish to a topic under the AWS-managed aws/sns key (whose policy
// cannot admit cloudwatch.amazonaws.com); the topic refuses requests
// without TLS and admits CloudWatch alarms of this account and region only.
// alarmEmail subscribes an address (SNS mails it a confirmation link first).
func newAlarmTopic(r *recipientStack) awssns.ITopic {
	s := r.s
	var topic awssns.ITopic
	if s.Alarms.TopicARN != "" {
		topic = awssns.Topic_FromTopicArn(r.stack, jsii.String("AlarmTopic"), jsii.String(s.Alarms.TopicARN))
	} else {
		alarmsOfThisAccount := map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": s.Account},
			"ArnLike":      map[string]any{"aws:SourceArn": r.arn("cloudwatch", s.Region, "alarm:*")},
		}
		cloudwatch := awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)
		key := awskms.NewKey(r.stack, jsii.String("AlarmTopicKey"), &awskms.KeyProps{
			Description:       jsii.String("logfan: encrypts the alarm topic's messages"),
			EnableKeyRotation: jsii.Bool(true),
			// It protects notifications in flight only.
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
			PendingWindow: awscdk.Duration_Days(jsii.Number(7)),
		})
		key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("CloudWatchAlarmsPublish"),
			Principals: &[]awsiam.IPrincipal{cloudwatch},
			Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
			Resources:  jsii.Strings("*"), // in a key policy, "*" is this key
			Conditions: &alarmsOfThisAccount,
		}), nil)
		t := awssns.NewTopic(r.stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
			DisplayName: jsii.String("logfan alarms"),
			MasterKey:   key,
			EnforceSSL:  jsii.Bool(true),
		})
		t.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("CloudWatchAlarmsPublish"),
			Principals: &[]awsiam.IPrincipal{cloudwatch},
			Actions:    jsii.Strings("sns:Publish"),
			Resources:  jsii.Strings(*t.TopicArn()),
			Conditions: &alarmsOfThisAccount,
		}))
		topic = t
	}
	if s.Alarms.Email != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(s.Alarms.Email), nil))
	}
	awscdk.NewCfnOutput(r.stack, jsii.String("AlarmTopicArn"), &awscdk.CfnOutputProps{
		Description: jsii.String("The SNS topic every alarm of the stack notifies (alarm and OK); subscribe to it"),
		Value:       topic.TopicArn(),
	})
	return topic
}

// alarmActions is an aspect adding the topic to the alarm and OK actions
// of every CloudWatch alarm it visits: through an L2 alarm's own methods
// (its action lists are lazy), or on a bare AWS::CloudWatch::Alarm.
type alarmActions struct {
	topic awssns.ITopic
	// done holds the paths of the alarms given the action: synthesizing
	// again (as the tests do) visits them again.
	done map[string]bool
}

// Visit implements awscdk.IAspect.
func (a *alarmActions) Visit(node constructs.IConstruct) {
	path := *node.Node().Path()
	if a.done[path] {
		return
	}
	if a.done == nil {
		a.done = map[string]bool{}
	}
	a.done[path] = true
	switch n := node.(type) {
	case awscloudwatch.Alarm:
		action := awscloudwatchactions.NewSnsAction(a.topic)
		n.AddAlarmAction(action)
		n.AddOkAction(action)
	case awscloudwatch.CfnAlarm:
		if _, inL2 := n.Node().Scope().(awscloudwatch.Alarm); inL2 {
			return // done through the L2 alarm above
		}
		if n.AlarmActions() == nil {
			n.SetAlarmActions(&[]*string{a.topic.TopicArn()})
		}
		if n.OkActions() == nil {
			n.SetOkActions(&[]*string{a.topic.TopicArn()})
		}
	}
}

// search builds a SEARCH expression over logfan's EMF metrics of one sink
// that carry exactly the dimensions sink and owner (one series per sender).
func search(metric, sink string) string {
	return fmt.Sprintf(`SEARCH('{%s,%s,%s} MetricName="%s" %s="%s"', 'Sum', 300)`, metricsNamespace, dimOwner, dimSink, metric, dimSink, sink)
}

// searchSink builds a SEARCH expression over one sink's totals: the
// functions emit Delivered, Retried, Quarantined and Rejected with the
// dimension sink alone, and a SEARCH schema matches only that exact set.
func searchSink(metric, sink string) string {
	return fmt.Sprintf(`SEARCH('{%s,%s} MetricName="%s" %s="%s"', 'Sum', 300)`, metricsNamespace, dimSink, metric, dimSink, sink)
}

// newDashboard shows the stream, throughput per sink and per sender, and the consumers.
func newDashboard(r *recipientStack, alarms []interfacesawscloudwatch.IAlarmRef) {
	five := awscdk.Duration_Minutes(jsii.Number(5))
	expr := func(expression, label string) awscloudwatch.IMetric {
		return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression:   jsii.String(expression),
			Label:        jsii.String(label),
			Period:       five,
			UsingMetrics: &map[string]awscloudwatch.IMetric{},
		})
	}
	graph := func(title string, width float64, left, right []awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(title), Width: jsii.Number(width), Height: jsii.Number(6), Left: &left, Right: &right,
		})
	}
	stream := r.stream.stream
	sum := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five}

	rows := [][]awscloudwatch.IWidget{
		{awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{
			Width: jsii.Number(24), Height: jsii.Number(2),
			Markdown: jsii.String("## logfan recipient\n" + destinationsText(r.s) + ". Sinks: " + strings.Join(r.s.EnabledSinks(), ", ") +
				". Per-sink and per-sender series come from the functions' EMF metrics (namespace `" + metricsNamespace + "`)."),
		})},
		{
			graph("Stream: incoming", 8, []awscloudwatch.IMetric{stream.MetricIncomingBytes(sum)}, []awscloudwatch.IMetric{stream.MetricIncomingRecords(sum)}),
			graph("Stream: throughput exceeded", 8, []awscloudwatch.IMetric{stream.MetricReadProvisionedThroughputExceeded(sum), stream.MetricWriteProvisionedThroughputExceeded(sum)}, nil),
			graph("Stream: read bytes (standard consumers)", 8, []awscloudwatch.IMetric{stream.MetricGetRecordsBytes(sum)}, nil),
		},
	}

	var delivered, bytes, trouble []awscloudwatch.IMetric
	for _, sink := range r.s.EnabledSinks() {
		delivered = append(delivered, expr("SUM("+searchSink("Delivered", sink)+")", sink))
		bytes = append(bytes, expr("SUM("+searchSink("Bytes", sink)+")", sink))
		for _, m := range []string{"Retried", "Quarantined", "Rejected"} {
			trouble = append(trouble, expr("SUM("+searchSink(m, sink)+")", sink+" "+strings.ToLower(m)))
		}
	}
	rows = append(rows, []awscloudwatch.IWidget{
		graph("Delivered events per sink", 8, delivered, nil),
		graph("Delivered bytes per sink", 8, bytes, nil),
		graph("Retried, quarantined, rejected per sink", 8, trouble, nil),
	})

	var perSender []awscloudwatch.IWidget
	for _, sink := range r.s.EnabledSinks() {
		// One line per sender account: SEARCH returns a series per owner
		// (the functions count events and bytes per owner, deliveries per sink).
		perSender = append(perSender, graph("Per sender ("+sink+"): events and bytes in", 24/float64(len(r.s.EnabledSinks())),
			[]awscloudwatch.IMetric{expr(search("Events", sink), "")}, []awscloudwatch.IMetric{expr(search("Bytes", sink), "")}))
	}
	rows = append(rows, perSender)
	// Sender health, as the watchdog counts it every WatchdogMinutes:
	// `logfan senders` names them.
	rows = append(rows, []awscloudwatch.IWidget{
		graph(fmt.Sprintf("Sender health: senders (silent after %d min without a heartbeat)", r.s.Health.SilentAfterMinutes), 12, []awscloudwatch.IMetric{
			watchdogMetric(MetricSilentSenders), watchdogMetric(MetricLateSenders), watchdogMetric(MetricUnexpectedSenders), watchdogMetric(MetricNeverSeenSenders),
		}, nil),
		graph("Sender health: log groups that sent every day of the last week and nothing today", 12, []awscloudwatch.IMetric{watchdogMetric(MetricSilentLogGroups)}, nil),
	})
	if r.s.Routes.Table != nil {
		rows = append(rows, routeWidgets(r.s, expr, graph))
	}

	var invocations, errs, iterator []awscloudwatch.IMetric
	for _, c := range r.functions {
		invocations = append(invocations, c.function.MetricInvocations(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five, Label: jsii.String(c.sink)}))
		errs = append(errs, c.function.MetricErrors(&awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: five, Label: jsii.String(c.sink)}))
		iterator = append(iterator, c.function.Metric(jsii.String("IteratorAge"), &awscloudwatch.MetricOptions{Statistic: jsii.String("Maximum"), Period: five, Label: jsii.String(c.sink)}))
	}
	rows = append(rows, []awscloudwatch.IWidget{
		graph("Consumers: invocations", 6, invocations, nil),
		graph("Consumers: errors", 6, errs, nil),
		graph("Consumers: iterator age (ms)", 6, iterator, nil),
		awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
			Title: jsii.String("Alarms"), Alarms: &alarms, Width: jsii.Number(6), Height: jsii.Number(6),
		}),
	})

	widgets := make([]*[]awscloudwatch.IWidget, len(rows))
	for i := range rows {
		widgets[i] = &rows[i]
	}
	awscloudwatch.NewDashboard(r.stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(3)),
		Widgets:         &widgets,
	})
}

// searchRoutes builds a SEARCH expression over the per-route metrics (dimensions sink and route).
func searchRoutes(metric, sink string) string {
	filter := ""
	if sink != "" {
		filter = fmt.Sprintf(` %s="%s"`, emf.DimSink, sink)
	}
	return fmt.Sprintf(`SEARCH('{%s,%s,%s} MetricName="%s"%s', 'Sum', 300)`, emf.Namespace, emf.DimRoute, emf.DimSink, metric, filter)
}

// routeWidgets shows, with routes, the events each route matched, the
// deliveries each route owed each sink, and per sink the events dropped (no
// route, or a route without targets) or routed to other sinks only.
func routeWidgets(s Settings, expr func(expression, label string) awscloudwatch.IMetric,
	graph func(title string, width float64, left, right []awscloudwatch.IMetric) awscloudwatch.IWidget) []awscloudwatch.IWidget {
	sinks := s.EnabledSinks()
	// Every function sees every event, so one sink's per-route Events are the whole stream's.
	events := expr(searchRoutes(emf.MetricEvents, sinks[0]), "")
	deliveries := expr(searchRoutes(emf.MetricDeliveries, ""), "")
	var dropped []awscloudwatch.IMetric
	for _, sink := range sinks {
		for _, m := range []string{emf.MetricDropped, emf.MetricOtherSinks} {
			dropped = append(dropped, expr(fmt.Sprintf(`SUM(SEARCH('{%s,%s} MetricName="%s" %s="%s"', 'Sum', 300))`, emf.Namespace, emf.DimSink, m, emf.DimSink, sink), sink+" "+strings.ToLower(m)))
		}
	}
	return []awscloudwatch.IWidget{
		graph("Routes: events per route", 8, []awscloudwatch.IMetric{events}, nil),
		graph("Routes: deliveries per route and sink", 8, []awscloudwatch.IMetric{deliveries}, nil),
		graph("Routes: dropped, and for other sinks only, per sink", 8, dropped, nil),
	}
}

// destinationsText names the destinations feeding the stream on the dashboard.
func destinationsText(s Settings) string {
	if len(s.DestinationRegions) == 0 {
		return "Destination `" + s.DestinationARN() + "`"
	}
	// CloudWatch Logs puts every region's events into this one stream, and
	// neither the stream's metrics nor the subscription payload say which
	// region an event came from: incoming bytes and records are shown for
	// all regions together.
	arns := []string{s.DestinationARN()}
	for _, region := range s.DestinationRegions {
		arns = append(arns, s.DestinationARNIn(region))
	}
	return "Destinations `" + strings.Join(arns, "`, `") + "` (regional stacks " + naming.DestinationStack("<region>") +
		"), all writing into this stream: its incoming bytes and records are the sum of every region, which neither the stream's metrics nor the log events tell apart"
}

// newOutputs publishes the destination ARN and the command senders run.
func newOutputs(r *recipientStack) {
	newDestinationOutputs(r.stack, r.s, r.s.Region, r.destination, r.senders)
	awscdk.NewCfnOutput(r.stack, jsii.String("StreamName"), &awscdk.CfnOutputProps{
		Description: jsii.String("The Kinesis stream behind the destination"),
		Value:       r.stream.stream.StreamName(),
	})
	awscdk.NewCfnOutput(r.stack, jsii.String("QuarantineBucketName"), &awscdk.CfnOutputProps{
		Description: jsii.String("Failed batches (aws/lambda/...) and quarantined items (" + r.s.Quarantine.Prefix + "/...)"),
		Value:       r.quarantine.BucketName(),
	})
	newOperatorOutputs(r)
	if r.athena != nil {
		awscdk.NewCfnOutput(r.stack, jsii.String("AthenaQueryExample"), &awscdk.CfnOutputProps{
			Description: jsii.String("Run in the Athena workgroup " + r.athena.workGroup + ": the newest events of one log group today (log_group is the escaped name; owner and log_group need equality)"),
			Value:       r.exampleQuery(r.athena),
		})
		awscdk.NewCfnOutput(r.stack, jsii.String("AthenaWorkGroupName"), &awscdk.CfnOutputProps{
			Description: jsii.String("The Athena workgroup for logfan queries (results encrypted, in a bucket of their own)"),
			Value:       jsii.String(r.athena.workGroup),
		})
	}
}

// newOperatorOutputs publishes what the operator commands (`logfan doctor`,
// `redrive`, `quarantine`, `senders`) read to find the deployment's parts,
// by the names in internal/ops/naming: the functions, the sinks' default
// targets, the tables, the quarantine's root prefix and the regions of the
// regional destination stacks. Each function's own configuration
// (environment, routes, key) is read from Lambda, not from here.
func newOperatorOutputs(r *recipientStack) {
	out := func(name, description string, value *string) {
		awscdk.NewCfnOutput(r.stack, jsii.String(name), &awscdk.CfnOutputProps{Description: jsii.String(description), Value: value})
	}
	out(naming.OutputQuarantinePrefix, "The quarantine's root prefix: each function writes under <prefix>/<sink>/", jsii.String(r.s.Quarantine.Prefix))
	if r.data != nil {
		out(naming.OutputDataBucket, "The data bucket: the S3 sink's objects, and the Firehose stream's", r.data.BucketName())
	}
	if r.firehose != nil {
		out(naming.OutputFirehoseStream, "The Firehose stream the Firehose sink writes to", jsii.String(r.firehose.name))
	}
	if r.ledger != nil {
		out(naming.OutputLedgerTable, "The consumers' ledger (what landed before a retry point)", r.ledger.TableName())
	}
	for _, c := range r.functions {
		out(naming.OutputFunctionName(c.sink), "The "+c.sink+" consumer function", c.function.FunctionName())
	}
	out(naming.OutputWatchdogFunction, "The sender-health watchdog function", r.watchdog.function.FunctionName())
	if len(r.s.DestinationRegions) > 0 {
		out(naming.OutputDestinationRegions, "Regions with a destination stack of their own ("+naming.DestinationStack("<region>")+"), all writing into this stream",
			jsii.String(strings.Join(r.s.DestinationRegions, ",")))
	}
}

// newDestinationOutputs publishes the ARN of the destination in region and
// the exact command a sender of that region runs to subscribe a log group.
func newDestinationOutputs(stack awscdk.Stack, s Settings, region string, destination awslogs.CfnDestination, senders *senderParameters) {
	cmd := "aws logs put-subscription-filter --region " + region +
		` --log-group-name <LOG_GROUP> --filter-name ` + naming.SubscriptionFilter + ` --filter-pattern "" --destination-arn ` + s.DestinationARNIn(region)
	awscdk.NewCfnOutput(stack, jsii.String("DestinationArn"), &awscdk.CfnOutputProps{
		Description: jsii.String("The CloudWatch Logs destination senders subscribe to"),
		Value:       destination.AttrArn(),
	})
	awscdk.NewCfnOutput(stack, jsii.String(naming.OutputDestinationRoleARN), &awscdk.CfnOutputProps{
		Description: jsii.String("The role CloudWatch Logs assumes to write the destination's records into the stream"),
		Value:       destination.RoleArn(),
	})
	awscdk.NewCfnOutput(stack, jsii.String("SubscriptionFilterCommand"), &awscdk.CfnOutputProps{
		Description: jsii.String("Run in a sender account (same region) for each log group to share; in organization mode, with a role CloudWatch Logs can assume in the sender account"),
		Value: awscdk.Token_AsString(awscdk.Fn_ConditionIf(senders.orgMode.LogicalId(),
			cmd+" --role-arn arn:"+partition(region)+":iam::<SENDER_ACCOUNT>:role/<SUBSCRIPTION_ROLE>",
			cmd), nil),
	})
}
