package uploader

func flushDisk() {}
