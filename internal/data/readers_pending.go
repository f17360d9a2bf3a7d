package data

import (
	"context"
	"fmt"
)

func (d *Dataset) loadFashionMNIST(ctx context.Context) error {
	return fmt.Errorf("the %s reader is not available in this build yet", d.parsed.Kind)
}

func (d *Dataset) loadFiles(ctx context.Context) error {
	return fmt.Errorf("the %s reader is not available in this build yet", d.parsed.Kind)
}
