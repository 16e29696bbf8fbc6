module github.com/nmp-platform/nmp

go 1.24
