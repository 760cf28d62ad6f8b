#!/bin/sh
echo profiles-dep 1.0
