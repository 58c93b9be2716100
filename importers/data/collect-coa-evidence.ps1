<#
.SYNOPSIS
  Collect the licence evidence of this PC for coa-audit: one CSV row per run.

.DESCRIPTION
  Reads, with no module beyond what Windows ships (Windows PowerShell 5.1 or PowerShell 7):
    - Win32_ComputerSystem: host name, manufacturer, model
    - Win32_BIOS: the serial number printed on the chassis
    - Win32_OperatingSystem: the installed OS caption and build
    - SoftwareLicensingService: the OEM firmware (OA3) key's description, for example
      "[4.0] Professional OEM:DM" (Pro) or "[4.0] Core OEM:DM" (Home); the key itself only
      with -IncludeKey (it is a secret: leave it out unless your audit needs it)
  and appends one row to a CSV file (UTF-8). Give -Path a folder (for example a share that
  every PC can write to) and each PC writes its own file there, named after the PC, so many
  PCs never write to one file at once.

.EXAMPLE
  powershell.exe -NoProfile -ExecutionPolicy Bypass -File collect-coa-evidence.ps1 -Path \\server\coa$

.NOTES
  Then, on the auditor's machine:  coa-audit check register.xlsx --evidence \\server\coa$
#>
param(
    [Parameter(Mandatory = $true)][string]$Path,
    [switch]$IncludeKey
)

$ErrorActionPreference = 'Stop'
$cs   = Get-CimInstance -ClassName Win32_ComputerSystem
$bios = Get-CimInstance -ClassName Win32_BIOS
$os   = Get-CimInstance -ClassName Win32_OperatingSystem
$sls  = Get-CimInstance -ClassName SoftwareLicensingService

$key = ''
if ($IncludeKey) { $key = [string]$sls.OA3xOriginalProductKey }

$row = [pscustomobject][ordered]@{
    ComputerName                      = $env:COMPUTERNAME
    SerialNumber                      = ([string]$bios.SerialNumber).Trim()
    Manufacturer                      = ([string]$cs.Manufacturer).Trim()
    Model                             = ([string]$cs.Model).Trim()
    OSCaption                         = ([string]$os.Caption).Trim()
    OSBuild                           = [string]$os.BuildNumber
    OA3xOriginalProductKeyDescription = [string]$sls.OA3xOriginalProductKeyDescription
    OA3xOriginalProductKey            = $key
    CollectedAt                       = (Get-Date).ToString('s')
}

if (Test-Path -LiteralPath $Path -PathType Container) {
    $Path = Join-Path $Path ($env:COMPUTERNAME + '.csv')
}
# UTF8: with a byte-order mark in Windows PowerShell 5.1, without in PowerShell 7; both read.
$row | Export-Csv -LiteralPath $Path -Append -NoTypeInformation -Encoding UTF8
