package deployment

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// LayerAPI is the Lambda call that locates a layer version's content; *lambda.Client implements it.
type LayerAPI interface {
	GetLayerVersionByArn(ctx context.Context, in *lambda.GetLayerVersionByArnInput, optFns ...func(*lambda.Options)) (*lambda.GetLayerVersionByArnOutput, error)
}

// maxLayerBytes bounds a downloaded layer: Lambda's own limit for a
// function's unzipped code and layers is 250 MB; a route-table layer is a
// few kilobytes.
const maxLayerBytes = 64 << 20

// LayerFile returns the file fn sees at file (/opt/...), from its layers
// as Lambda extracts them: in order, a later layer's file replacing an
// earlier one's.
func (d *Deployment) LayerFile(ctx context.Context, fn *Function, file string) (string, error) {
	rel, ok := strings.CutPrefix(path.Clean(file), "/opt/")
	if !ok {
		return "", fmt.Errorf("not under /opt, where Lambda puts layers: this machine cannot read it")
	}
	if len(fn.Layers) == 0 {
		return "", fmt.Errorf("the function has no layer to hold it")
	}
	client := d.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	found, text := false, ""
	for _, arn := range fn.Layers {
		out, err := d.Layers.GetLayerVersionByArn(ctx, &lambda.GetLayerVersionByArnInput{Arn: aws.String(arn)})
		if err != nil {
			return "", fmt.Errorf("read layer %s: %w", arn, err)
		}
		if out.Content == nil || aws.ToString(out.Content.Location) == "" {
			return "", fmt.Errorf("layer %s: Lambda gave no download location", arn)
		}
		body, err := download(ctx, client, aws.ToString(out.Content.Location))
		if err != nil {
			return "", fmt.Errorf("download layer %s: %w", arn, err)
		}
		zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			return "", fmt.Errorf("layer %s: %w", arn, err)
		}
		for _, f := range zr.File {
			if path.Clean(f.Name) != rel {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return "", fmt.Errorf("layer %s: %s: %w", arn, f.Name, err)
			}
			b, err := io.ReadAll(io.LimitReader(rc, maxLayerBytes))
			rc.Close()
			if err != nil {
				return "", fmt.Errorf("layer %s: %s: %w", arn, f.Name, err)
			}
			found, text = true, string(b)
		}
	}
	if !found {
		return "", fmt.Errorf("none of the function's layers (%s) holds %s", strings.Join(fn.Layers, ", "), rel)
	}
	return text, nil
}

// download fetches a layer's presigned URL.
func download(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxLayerBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxLayerBytes {
		return nil, fmt.Errorf("larger than %d bytes", maxLayerBytes)
	}
	return b, nil
}
