package upload_test

import (
	"fmt"

	"github.com/parley-chat/parley/upload"
)

func ExampleSanitizeFilename() {
	fmt.Println(upload.SanitizeFilename("../../photos/Beach day.jpg"))
	fmt.Println(upload.SanitizeFilename("invoice\u202efdp.exe"))
	// Output:
	// Beach day.jpg
	// invoicefdp.exe
}

func ExampleContentDisposition() {
	fmt.Println(upload.ContentDisposition("report.pdf"))
	fmt.Println(upload.ContentDisposition("Café.jpg"))
	// Output:
	// attachment; filename=report.pdf
	// attachment; filename*=utf-8''Caf%C3%A9.jpg
}
