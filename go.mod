module github.com/virtuheal/apierrors

go 1.25.0
