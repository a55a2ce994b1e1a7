#!/usr/bin/env node
import "../dist/binAllInOne.js"
